package scheduling_test

import (
	"fmt"
	"testing"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

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
