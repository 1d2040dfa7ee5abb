package disruptionplan

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
)

// BenchmarkEvaluate500 and BenchmarkEvaluate2000 time a full pass over a
// synthetic cluster in its worst case: consolidated to a fixed point first,
// so the pass finds nothing and single-node consolidation tries every
// candidate (budgets allow all of them). Targets: 1 s and 5 s, 500 MB heap.
func BenchmarkEvaluate500(b *testing.B)  { benchEvaluate(b, 500, 5000) }
func BenchmarkEvaluate2000(b *testing.B) { benchEvaluate(b, 2000, 20000) }

// BenchmarkEvaluateFresh500 is a pass over the unconsolidated cluster,
// where the first methods find work (the common case).
func BenchmarkEvaluateFresh500(b *testing.B) {
	s := benchSnapshot(500, 5000)
	runBench(b, s, -1)
}

var fixedPoints sync.Map // "nodes/pods" -> *Snapshot

func benchSnapshot(nodes, pods int) *Snapshot {
	return FromInput(workloads.SyntheticCluster(nodes, pods, 1), now, 24*time.Hour, func(sp *scheduling.NodePool) *v1.NodePool {
		np := &v1.NodePool{}
		np.Name = sp.Name
		np.Spec.Disruption = v1.Disruption{ConsolidationPolicy: v1.ConsolidationPolicyWhenEmptyOrUnderutilized, ConsolidateAfter: "0s",
			Budgets: []v1.Budget{{Nodes: "100%"}}}
		return np
	})
}

// fixedPoint consolidates the synthetic cluster until a pass finds nothing.
func fixedPoint(b *testing.B, nodes, pods int) *Snapshot {
	key := fmt.Sprintf("%d/%d", nodes, pods)
	if s, ok := fixedPoints.Load(key); ok {
		return s.(*Snapshot)
	}
	s := benchSnapshot(nodes, pods)
	start, price := time.Now(), s.Price()
	for step := 0; ; step++ {
		res, err := Evaluate(s, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Decisions) == 0 {
			b.Logf("%d nodes: fixed point after %d steps in %v: $%.2f/h -> $%.2f/h, %d nodes",
				nodes, step, time.Since(start).Round(time.Millisecond), price, s.Price(), len(s.Nodes))
			break
		}
		for i, d := range res.Decisions {
			if err := s.Apply(d, func(j int) string { return fmt.Sprintf("r-%d-%d-%d", step, i, j) }); err != nil {
				b.Fatal(err)
			}
		}
	}
	fixedPoints.Store(key, s)
	return s
}

func benchEvaluate(b *testing.B, nodes, pods int) {
	s := fixedPoint(b, nodes, pods)
	runBench(b, s, 0)
}

// runBench times Evaluate on s, checking the number of decisions when
// want >= 0, and reports ms/op and the peak heap.
func runBench(b *testing.B, s *Snapshot, want int) {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	whatIfs := 0
	for i := 0; i < b.N; i++ {
		res, err := Evaluate(s, Options{})
		whatIfs += res.WhatIfs
		if err != nil {
			b.Fatal(err)
		}
		if want >= 0 && len(res.Decisions) != want {
			b.Fatalf("%d decisions, want %d: %s", len(res.Decisions), want, messages(res))
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(elapsed.Milliseconds())/float64(b.N), "ms/op")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(whatIfs)/float64(b.N), "whatifs/op")
}
