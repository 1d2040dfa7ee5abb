package simulate

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
)

// testAt pins the synthetic spot prices, so plans are the same every hour.
var testAt = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func examples(t *testing.T, name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "simulate", name)
}

// TestExamples runs simulate on the shipped examples and checks the plan's
// shape: every pod placed but the impossible one, spread and anti-affinity
// honoured, GPUs on the GPU pool, daemonset overhead counted.
func TestExamples(t *testing.T) {
	in, err := Load(Options{PodsFile: examples(t, "workload.yaml"), NodePoolsFile: examples(t, "nodepools.yaml"), At: testAt})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Pods) != 12 || len(in.DaemonSets) != 1 || len(in.NodePools) != 2 {
		t.Fatalf("loaded %d pods, %d daemonsets, %d nodepools; want 12, 1, 2", len(in.Pods), len(in.DaemonSets), len(in.NodePools))
	}
	rep, err := Run(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unschedulable) != 1 || rep.Unschedulable[0].Pod != "ml/impossible" ||
		!strings.Contains(rep.Unschedulable[0].Reason, "nvidia.com/gpu=4") || !strings.Contains(rep.Unschedulable[0].Reason, "arm64") ||
		!strings.Contains(rep.Unschedulable[0].Reason, "nodepool gpu") {
		t.Errorf("unschedulable = %+v, want only ml/impossible with a reason naming the GPUs, arch and pool", rep.Unschedulable)
	}
	webZones, cacheNodes, total := map[string]int{}, map[string]bool{}, 0.0
	for _, nc := range rep.NodeClaims {
		total += nc.PricePerHour
		if nc.PricePerHour <= 0 || nc.InstanceTypeOptions < 1 {
			t.Errorf("%s: price %v, %d options", nc.Name, nc.PricePerHour, nc.InstanceTypeOptions)
		}
		for _, p := range nc.Pods {
			switch {
			case strings.HasPrefix(p, "shop/web-"):
				webZones[nc.Zone]++
			case strings.HasPrefix(p, "shop/cache-"):
				if cacheNodes[nc.Name] {
					t.Errorf("two cache pods share %s despite hostname anti-affinity", nc.Name)
				}
				cacheNodes[nc.Name] = true
			case strings.HasPrefix(p, "ml/train-"):
				if nc.NodePool != "gpu" || !strings.HasPrefix(nc.InstanceType, "g") && !strings.HasPrefix(nc.InstanceType, "p") {
					t.Errorf("training pod %s on %s (%s), want a GPU type from the gpu pool", p, nc.InstanceType, nc.NodePool)
				}
			}
		}
		if nc.NodePool == "general" && nc.CapacityType != "spot" {
			t.Errorf("%s is %s although spot is allowed and cheaper", nc.Name, nc.CapacityType)
		}
	}
	if len(webZones) != 3 || webZones["us-east-1a"] != 2 || webZones["us-east-1b"] != 2 || webZones["us-east-1c"] != 2 {
		t.Errorf("web pods per zone = %v, want 2 in each of 3 zones", webZones)
	}
	if len(cacheNodes) != 3 {
		t.Errorf("cache pods on %d nodes, want 3", len(cacheNodes))
	}
	if d := total - rep.TotalPricePerHour; d > 1e-9 || d < -1e-9 {
		t.Errorf("total %v != sum of nodes %v", rep.TotalPricePerHour, total)
	}

	var table, js bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"INSTANCE TYPE", "ml/impossible: no instance type satisfies", "/hour"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"nodeClaims", "existingNodes", "totalPricePerHour", "unschedulable", "solveSeconds"} {
		if _, ok := decoded[key]; !ok {
			t.Errorf("JSON output lacks %s", key)
		}
	}
}

// TestBenchmarkWorkloadFiles round-trips the synthetic workload through
// files, as `nodewright bench-workload` writes them, and solves it.
func TestBenchmarkWorkloadFiles(t *testing.T) {
	pods, cat, err := WriteBenchmarkWorkload(t.TempDir(), 500)
	if err != nil {
		t.Fatal(err)
	}
	in, err := Load(Options{PodsFile: pods, CatalogFile: cat, At: testAt})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Pods) != 500 || len(in.NodePools[0].InstanceTypes) != 400 {
		t.Fatalf("loaded %d pods and %d types", len(in.Pods), len(in.NodePools[0].InstanceTypes))
	}
	rep, err := Run(in)
	if err != nil {
		t.Fatal(err)
	}
	placed := 0
	for _, nc := range rep.NodeClaims {
		placed += len(nc.Pods)
	}
	if placed != 500 || len(rep.Unschedulable) != 0 {
		t.Fatalf("placed %d of 500 pods, %d unschedulable", placed, len(rep.Unschedulable))
	}
}

// TestRealisticWorkloadFiles round-trips the realistic workload through a
// file, as `nodewright bench-workload --workload realistic` writes it, and
// solves it over the embedded EC2 catalog.
func TestRealisticWorkloadFiles(t *testing.T) {
	const n = 300
	pods, err := WriteRealisticWorkload(t.TempDir(), n, 7)
	if err != nil {
		t.Fatal(err)
	}
	in, err := Load(Options{PodsFile: pods, At: testAt})
	if err != nil {
		t.Fatal(err)
	}
	want := workloads.RealisticPods(n, 7)
	if len(in.Pods) != n || len(in.DaemonSets) != len(workloads.RealisticDaemonSets()) {
		t.Fatalf("loaded %d pods and %d daemonsets", len(in.Pods), len(in.DaemonSets))
	}
	for i, p := range in.Pods {
		w := want[i]
		if p.Name != w.Name || p.Namespace != w.Namespace || !equality.Semantic.DeepEqual(p.Spec, w.Spec) || !equality.Semantic.DeepEqual(p.OwnerReferences, w.OwnerReferences) {
			t.Fatalf("pod %d: loaded %s/%s differs from the generated %s/%s", i, p.Namespace, p.Name, w.Namespace, w.Name)
		}
	}
	rep, err := Run(in)
	if err != nil {
		t.Fatal(err)
	}
	placed := 0
	for _, nc := range rep.NodeClaims {
		placed += len(nc.Pods)
	}
	if placed != n || len(rep.Unschedulable) != 0 {
		t.Fatalf("placed %d of %d pods, %d unschedulable", placed, n, len(rep.Unschedulable))
	}
	if _, err := WriteRealisticWorkload(t.TempDir(), 0, 1); err == nil {
		t.Error("0 pods: want an error")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		opts Options
		want string
	}{
		"no pods flag": {Options{At: testAt}, "--pods is required"},
		"missing file": {Options{PodsFile: filepath.Join(dir, "nope.yaml"), At: testAt}, "no such file"},
		"no time":      {Options{PodsFile: examples(t, "workload.yaml")}, "no time to price at"},
	} {
		if _, err := Load(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want an error containing %q, got %v", name, tc.want, err)
		}
	}
	err := Read(strings.NewReader("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"), &Objects{})
	if err == nil || !strings.Contains(err.Error(), "unsupported kind \"Service\"") {
		t.Errorf("want an unsupported-kind error, got %v", err)
	}
}
