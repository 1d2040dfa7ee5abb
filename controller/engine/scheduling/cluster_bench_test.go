package scheduling_test

import (
	"math"
	"runtime"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
)

// BenchmarkClusterWithout500 and BenchmarkClusterWithout2000 run the
// what-ifs of one consolidation pass over workloads.SyntheticCluster: NewCluster,
// then Without for every node alone, then 11 multi-node what-ifs removing
// the 2 to n/2 emptiest nodes.
func BenchmarkClusterWithout500(b *testing.B)  { benchmarkClusterWithout(b, 500, false) }
func BenchmarkClusterWithout2000(b *testing.B) { benchmarkClusterWithout(b, 2000, false) }

// BenchmarkClusterWithoutFull2000 is the worst case: every node is exactly
// full, so each pod scans every node and then needs a NodeClaim.
func BenchmarkClusterWithoutFull2000(b *testing.B) { benchmarkClusterWithout(b, 2000, true) }

func benchmarkClusterWithout(b *testing.B, nodes int, full bool) {
	in := workloads.SyntheticCluster(nodes, 10*nodes, 1)
	if full {
		in.Nodes = fillNodes(in.Nodes)
	}
	multi := emptiestPrefixes(in, 11)
	runtime.GC()
	peak := watchHeap(func(ms *runtime.MemStats) uint64 { return ms.HeapInuse })
	b.ReportAllocs()
	b.ResetTimer()
	var prepare, single, several time.Duration
	whatIfs, moved, claims := 0, 0, 0
	for i := 0; i < b.N; i++ {
		start := time.Now()
		c, err := scheduling.NewCluster(in)
		if err != nil {
			b.Fatal(err)
		}
		prepare += time.Since(start)
		start = time.Now()
		whatIfs, moved, claims = 0, 0, 0
		for _, n := range in.Nodes {
			res, err := c.Without([]string{n.Name}, scheduling.Options{})
			if err != nil {
				b.Fatal(err)
			}
			whatIfs++
			claims += len(res.NodeClaims)
			for _, e := range res.ExistingNodes {
				moved += len(e.Pods)
			}
		}
		single += time.Since(start)
		start = time.Now()
		for _, names := range multi {
			if _, err := c.Without(names, scheduling.Options{}); err != nil {
				b.Fatal(err)
			}
			whatIfs++
		}
		several += time.Since(start)
	}
	elapsed := b.Elapsed()
	b.ReportMetric(float64(elapsed.Milliseconds())/float64(b.N), "ms/sweep")
	b.ReportMetric(float64(prepare.Milliseconds())/float64(b.N), "prepare-ms")
	b.ReportMetric(float64(single.Milliseconds())/float64(b.N), "single-ms")
	b.ReportMetric(float64(several.Milliseconds())/float64(b.N), "multi-ms")
	b.ReportMetric(float64(whatIfs), "whatifs/sweep")
	b.ReportMetric(float64(moved), "pods-to-existing")
	b.ReportMetric(float64(claims), "claims")
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
}

// fillNodes shrinks every node's allocatable to what its pods request.
func fillNodes(nodes []*scheduling.ExistingNode) []*scheduling.ExistingNode {
	out := make([]*scheduling.ExistingNode, len(nodes))
	for i, n := range nodes {
		c := *n
		c.Allocatable = n.Allocatable.DeepCopy()
		var cpu, mem resource.Quantity
		for _, p := range n.Pods {
			r := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
			cpu.Add(r[corev1.ResourceCPU])
			mem.Add(r[corev1.ResourceMemory])
		}
		c.Allocatable[corev1.ResourceCPU], c.Allocatable[corev1.ResourceMemory] = cpu, mem
		out[i] = &c
	}
	return out
}

// emptiestPrefixes returns k removal sets: the emptiest nodes first, sizes
// spaced geometrically from 2 to half the cluster.
func emptiestPrefixes(in scheduling.Input, k int) [][]string {
	type load struct {
		name string
		cpu  int64
	}
	loads := make([]load, 0, len(in.Nodes))
	for _, n := range in.Nodes {
		var cpu int64
		for _, p := range n.Pods {
			req := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
			cpu += req.Cpu().MilliValue()
		}
		loads = append(loads, load{n.Name, cpu})
	}
	sort.SliceStable(loads, func(i, j int) bool { return loads[i].cpu < loads[j].cpu })
	var out [][]string
	top := float64(len(in.Nodes) / 2)
	for i := 0; i < k; i++ {
		size := int(math.Round(2 * math.Pow(top/2, float64(i)/float64(k-1))))
		names := make([]string, 0, size)
		for _, l := range loads[:size] {
			names = append(names, l.name)
		}
		out = append(out, names)
	}
	return out
}
