package scheduling_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
)

func benchmarkSolve(b *testing.B, pods int) {
	types := workloads.SyntheticInstanceTypes(400)
	in := scheduling.Input{Pods: workloads.DiversePods(pods), NodePools: []*scheduling.NodePool{workloads.DefaultNodePool(types)}}
	b.ReportAllocs()
	runtime.GC()
	peak := watchHeap(func(ms *runtime.MemStats) uint64 { return ms.HeapAlloc })
	b.ResetTimer()
	var res *scheduling.Result
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var err error
		if res, err = scheduling.Solve(in); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
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

// watchHeap samples a heap figure (HeapAlloc, HeapInuse) every few
// milliseconds until the returned function is called, which reports the
// highest sample.
func watchHeap(figure func(*runtime.MemStats) uint64) func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if v := figure(&ms); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		return peak.Load()
	}
}
