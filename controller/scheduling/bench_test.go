package scheduling

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

func benchmarkSolve(b *testing.B, pods int) {
	types := SyntheticInstanceTypes(400)
	in := Input{Pods: DiversePods(pods), NodePools: []*NodePool{DefaultNodePool(types)}}
	b.ReportAllocs()
	b.ResetTimer()
	var res *Result
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var err error
		if res, err = Solve(in); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(pods*b.N)/elapsed.Seconds(), "pods/s")
	b.ReportMetric(float64(len(res.NodeClaims)), "nodes")
	b.ReportMetric(res.TotalPrice, "$/h")
	b.ReportMetric(float64(len(res.Unschedulable)), "unschedulable")
}

func BenchmarkSolve(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 5000, 20000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) { benchmarkSolve(b, n) })
	}
}

var _ = runtime.GC
