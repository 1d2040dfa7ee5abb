package scheduling_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
	"github.com/nodewright/nodewright/controller/simulate"
)

var ec2Zones = []string{"us-east-1a", "us-east-1b", "us-east-1c"}

// benchAt is the hour the tests and benchmarks price spot at.
var benchAt = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// realisticInput is the realistic workload with its DaemonSets on the
// default NodePool over the real us-east-1 catalog.
func realisticInput(tb testing.TB, n int, seed uint64) scheduling.Input {
	tb.Helper()
	types, err := simulate.EC2Catalog("us-east-1", ec2Zones, 0, benchAt)
	if err != nil {
		tb.Fatal(err)
	}
	return scheduling.Input{
		Pods: workloads.RealisticPods(n, seed), DaemonSets: workloads.RealisticDaemonSets(),
		NodePools: []*scheduling.NodePool{workloads.DefaultNodePool(types)},
	}
}

func TestRealisticPodsSchedulable(t *testing.T) {
	sizes := []int{1000, 5000}
	if testing.Short() {
		sizes = sizes[:1]
	}
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			in := realisticInput(t, n, 1)
			res, err := scheduling.Solve(in)
			if err != nil {
				t.Fatal(err)
			}
			for i, u := range res.Unschedulable {
				if i < 5 {
					t.Errorf("unschedulable %s/%s: %s", u.Pod.Namespace, u.Pod.Name, u.Reason)
				}
			}
			placed := 0
			for _, nc := range res.NodeClaims {
				placed += len(nc.Pods)
			}
			if len(res.Unschedulable) != 0 || placed != n {
				t.Fatalf("placed %d of %d pods, %d unschedulable", placed, n, len(res.Unschedulable))
			}
			t.Logf("%d pods: %d nodes, $%.2f/h", n, len(res.NodeClaims), res.TotalPrice)
		})
	}
}

// BenchmarkSolveRealistic runs the cluster-shaped workload (seed 1) with
// its DaemonSets on the default NodePool over the real EC2 catalog.
func BenchmarkSolveRealistic(b *testing.B) {
	for _, n := range []int{1000, 5000, 20000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			in := realisticInput(b, n, 1)
			b.ReportAllocs()
			b.ResetTimer()
			var res *scheduling.Result
			var err error
			for i := 0; i < b.N; i++ {
				if res, err = scheduling.Solve(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "pods/s")
			b.ReportMetric(float64(len(res.NodeClaims)), "nodes")
			b.ReportMetric(res.TotalPrice, "$/h")
			b.ReportMetric(float64(len(res.Unschedulable)), "unschedulable")
		})
	}
}

// On the real catalog, the realistic workload's memory-heavy and CPU-heavy
// pods are worth packing apart, onto memory-rich and compute types: Solve
// must find the plan that does, about a tenth cheaper than the sized
// packing alone. On Karpenter's synthetic catalog every type has one shape,
// so the shape packing cannot help, and Solve keeps the sized plan.
func TestSolvePacksByShapeWhereTypesDiffer(t *testing.T) {
	in := realisticInput(t, 1000, 1)
	sized, err := scheduling.SolveWith(in, scheduling.Options{})
	if err != nil {
		t.Fatal(err)
	}
	byShape, err := scheduling.SolveWith(in, scheduling.Options{ByShape: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := scheduling.Solve(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(byShape.Unschedulable) != 0 || len(res.Unschedulable) != 0 {
		t.Fatalf("unschedulable: by shape %d, solve %d", len(byShape.Unschedulable), len(res.Unschedulable))
	}
	t.Logf("sized $%.3f/h on %d nodes; by shape $%.3f/h on %d; Solve $%.3f/h on %d",
		sized.TotalPrice, len(sized.NodeClaims), byShape.TotalPrice, len(byShape.NodeClaims), res.TotalPrice, len(res.NodeClaims))
	if res.TotalPrice > sized.TotalPrice*0.95 {
		t.Errorf("Solve planned $%.3f/h, not 5%% under the sized packing's $%.3f/h", res.TotalPrice, sized.TotalPrice)
	}

	synthetic := scheduling.Input{Pods: workloads.DiversePods(500), NodePools: []*scheduling.NodePool{workloads.DefaultNodePool(workloads.SyntheticInstanceTypes(400))}}
	if sized, err = scheduling.SolveWith(synthetic, scheduling.Options{}); err != nil {
		t.Fatal(err)
	}
	if res, err = scheduling.Solve(synthetic); err != nil {
		t.Fatal(err)
	}
	if res.TotalPrice > sized.TotalPrice*(1+1e-9) {
		t.Errorf("synthetic: Solve planned $%.3f/h, dearer than the sized packing's $%.3f/h", res.TotalPrice, sized.TotalPrice)
	}
}
