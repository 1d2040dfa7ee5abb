package scheduling_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
	"github.com/nodewright/nodewright/controller/simulate"
)

// BenchmarkSolveEC2Catalog runs the benchmark's pods against the real EC2
// catalog (1382 types, 3 zones, spot and on-demand).
func BenchmarkSolveEC2Catalog(b *testing.B) {
	types, err := simulate.EC2Catalog("us-east-1", []string{"us-east-1a", "us-east-1b", "us-east-1c"}, 0, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1000, 5000, 20000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			in := scheduling.Input{Pods: workloads.DiversePods(n), NodePools: []*scheduling.NodePool{workloads.DefaultNodePool(types)}}
			b.ReportAllocs()
			b.ResetTimer()
			var res *scheduling.Result
			for i := 0; i < b.N; i++ {
				if res, err = scheduling.Solve(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "pods/s")
			b.ReportMetric(float64(len(res.NodeClaims)), "nodes")
			b.ReportMetric(res.TotalPrice, "$/h")
		})
	}
}
