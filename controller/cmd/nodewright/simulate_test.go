package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const consolidateNodes = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata:
    name: a
    creationTimestamp: "2026-01-01T00:00:00Z"
    labels: {nodewright.dev/nodepool: default, nodewright.dev/capacity-type: on-demand, node.kubernetes.io/instance-type: m5.xlarge, topology.kubernetes.io/zone: us-east-1a}
  status:
    allocatable: {cpu: 3920m, memory: 14Gi, pods: "58"}
    conditions: [{type: Ready, status: "True"}]
- apiVersion: v1
  kind: Node
  metadata:
    name: b
    creationTimestamp: "2026-01-01T00:00:00Z"
    labels: {nodewright.dev/nodepool: default, nodewright.dev/capacity-type: on-demand, node.kubernetes.io/instance-type: m5.large, topology.kubernetes.io/zone: us-east-1a}
  status:
    allocatable: {cpu: 1930m, memory: 7Gi, pods: "29"}
    conditions: [{type: Ready, status: "True"}]
`

const consolidatePods = `apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: shop
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web, uid: u1, controller: true}]
spec:
  nodeName: a
  containers: [{name: app, image: x, resources: {requests: {cpu: 500m, memory: 512Mi}}}]
status:
  phase: Running
`

func TestSimulateConsolidate(t *testing.T) {
	dir := t.TempDir()
	nodes, pods := filepath.Join(dir, "nodes.yaml"), filepath.Join(dir, "pods.yaml")
	if err := os.WriteFile(nodes, []byte(consolidateNodes), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pods, []byte(consolidatePods), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := simulateCmd([]string{"--nodes", nodes, "--pods", pods, "--consolidate"}, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	// b is empty; then a's one pod fits on a cheaper node than an m5.xlarge.
	for _, want := range []string{"2 nodes, $0.2880/hour", "Empty: deleting m5.large (on-demand, $0.096/h)", "Underutilized: replacing m5.xlarge (on-demand, $0.192/h) with ", "saves $"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	t.Logf("output:\n%s", got)
	if err := simulateCmd([]string{"--nodes", nodes, "--pods", pods}, &out); err == nil || !strings.Contains(err.Error(), "--consolidate") {
		t.Errorf("--nodes without --consolidate: %v", err)
	}
}

func TestBenchWorkloadRealistic(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := benchWorkloadCmd([]string{"--dir", dir, "--pods", "120", "--workload", "realistic", "--seed", "5"}, &out); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "realistic-120-seed5.yaml")
	if !strings.Contains(out.String(), "run: nodewright simulate --pods "+file+"\n") {
		t.Errorf("output: %s", out.String())
	}
	first, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := benchWorkloadCmd([]string{"--dir", dir, "--pods", "120", "--workload", "realistic", "--seed", "5"}, &out); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(file); !bytes.Equal(first, again) {
		t.Error("the same --pods and --seed wrote different files")
	}
	out.Reset()
	if err := simulateCmd([]string{"--pods", file, "--output", "json"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"unschedulable": []`) {
		t.Errorf("simulate of the realistic workload left pods unschedulable:\n%.2000s", out.String())
	}
	if err := benchWorkloadCmd([]string{"--dir", dir, "--workload", "nope"}, &out); err == nil || !strings.Contains(err.Error(), "diverse or realistic") {
		t.Errorf("--workload nope: %v", err)
	}
}
