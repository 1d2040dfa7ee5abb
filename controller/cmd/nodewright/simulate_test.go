package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodewright/nodewright/controller/simulate"
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
	if err := simulateCmd([]string{"--nodes", nodes, "--pods", pods, "--consolidate", "--at", "2026-11-01T00:00:00Z"}, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	// b is empty; then a's one pod fits on a cheaper node than an m5.xlarge.
	for _, want := range []string{"2 nodes, $0.2924/hour", "Empty: deleting m5.large (on-demand, $0.09819/h)", "Underutilized: replacing m5.xlarge (on-demand, $0.1942/h) with ", "saves $"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	t.Logf("output:\n%s", got)
}

// TestSimulateOnExistingNodes: with --nodes and no --consolidate, pending
// pods fill the nodes' room first (b has 1930m free, a 3420m beside
// web-1); what fits nowhere gets a NodeClaim, whose requirements the JSON
// gives: the spread pinned its zone away from the nodes' us-east-1a.
func TestSimulateOnExistingNodes(t *testing.T) {
	dir := t.TempDir()
	nodes, pods := filepath.Join(dir, "nodes.yaml"), filepath.Join(dir, "pods.yaml")
	if err := os.WriteFile(nodes, []byte(consolidateNodes), 0o644); err != nil {
		t.Fatal(err)
	}
	pending := consolidatePods + `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: api}}
    spec:
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: api}}}
      containers: [{name: app, image: x, resources: {requests: {cpu: "1", memory: 1Gi}}}]
`
	if err := os.WriteFile(pods, []byte(pending), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := simulateCmd([]string{"--nodes", nodes, "--pods", pods, "--at", "2026-11-01T00:00:00Z", "--output", "json"}, &out); err != nil {
		t.Fatal(err)
	}
	var rep simulate.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	onNodes := 0
	for _, e := range rep.ExistingNodes {
		onNodes += len(e.Pods)
		for _, p := range e.Pods {
			if strings.HasPrefix(p, "shop/web") {
				t.Errorf("bound pod %s placed again on %s", p, e.Name)
			}
		}
	}
	// One api pod per zone: one on the nodes (us-east-1a), two on claims
	// in the other zones.
	if onNodes != 1 || len(rep.NodeClaims) != 2 {
		t.Fatalf("want 1 pod on the nodes and 2 claims, got %s", out.String())
	}
	for _, nc := range rep.NodeClaims {
		zone := nc.Labels["topology.kubernetes.io/zone"]
		if zone == "" || zone == "us-east-1a" || zone != nc.Zone {
			t.Errorf("claim %s: zone label %q, offering zone %s; want a pinned zone other than us-east-1a", nc.Name, zone, nc.Zone)
		}
		if len(nc.Requirements) == 0 {
			t.Errorf("claim %s has no requirements in the JSON", nc.Name)
		}
	}
}

func TestSimulateAt(t *testing.T) {
	dir := t.TempDir()
	pods := filepath.Join(dir, "pods.yaml")
	if err := os.WriteFile(pods, []byte(consolidatePods), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"yesterday", "2026-11-01", "2026-11-01 10:00:00", "2026-11-01T10:00:00"} {
		err := simulateCmd([]string{"--pods", pods, "--at", bad}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--at") || !strings.Contains(err.Error(), "RFC 3339") {
			t.Errorf("--at %q: want an error naming --at and RFC 3339, got %v", bad, err)
		}
	}
	// The pod is scheduled anew (simulate ignores spec.nodeName without
	// --consolidate) on spot, whose price follows the hour: the same hour
	// in two offsets prints the same plan, and some other hour another price.
	plan := func(at string) string {
		var out bytes.Buffer
		if err := simulateCmd([]string{"--pods", pods, "--at", at, "--output", "json"}, &out); err != nil {
			t.Fatalf("--at %s: %v", at, err)
		}
		var rep struct {
			NodeClaims []struct {
				InstanceType, Zone, CapacityType string
				PricePerHour                     float64
			}
		}
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.NodeClaims) != 1 {
			t.Fatalf("--at %s: %d nodes, want 1", at, len(rep.NodeClaims))
		}
		return fmt.Sprintf("%+v", rep.NodeClaims[0])
	}
	base := plan("2026-11-01T10:05:00Z")
	if same := plan("2026-11-01T11:59:59+01:00"); same != base {
		t.Errorf("the same hour priced differently: %s and %s", base, same)
	}
	differ := false
	for h := 1; h < 24 && !differ; h++ {
		differ = plan(fmt.Sprintf("2026-11-01T%02d:05:00Z", (10+h)%24)) != base
	}
	if !differ {
		t.Errorf("the plan %s is the same at every hour of the day: --at does not reach the prices", base)
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

// The table says which prices are the catalog's and which are synthetic,
// and for which hour.
func TestSimulateSaysWherePricesComeFrom(t *testing.T) {
	pods := filepath.Join(t.TempDir(), "pods.yaml")
	if err := os.WriteFile(pods, []byte(consolidatePods), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := simulateCmd([]string{"--pods", pods, "--at", "2026-11-01T10:05:00Z", "--region", "us-west-2"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"embedded EC2 catalog's us-west-2 list prices", "spot synthetic, for the hour of 2026-11-01T10:00:00Z"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// A region the catalog has no prices for is priced at us-east-1's, and
	// the output says so.
	out.Reset()
	if err := simulateCmd([]string{"--pods", pods, "--at", "2026-11-01T10:05:00Z", "--region", "eu-west-1"}, &out); err != nil {
		t.Fatal(err)
	}
	if want := "us-east-1 list prices, standing in for eu-west-1"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
}
