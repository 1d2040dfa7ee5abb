package scheduling_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
	"github.com/nodewright/nodewright/controller/simulate"
)

// BenchmarkClusterWithoutEC2 is the consolidation sweep (every node alone)
// with the default NodePool offering the EC2 catalog. Full: every node's
// allocatable is shrunk to what its pods request, so every moved pod needs
// a NodeClaim priced over the whole catalog.
func BenchmarkClusterWithoutEC2(b *testing.B) {
	zones := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	types, err := simulate.EC2Catalog("us-east-1", zones, 0, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	for _, full := range []bool{false, true} {
		name := "spare"
		if full {
			name = "full"
		}
		b.Run(name, func(b *testing.B) {
			in := workloads.SyntheticCluster(2000, 20000, 1)
			in.NodePools = []*scheduling.NodePool{workloads.DefaultNodePool(types)}
			for i, n := range in.Nodes {
				c := *n
				c.Labels = map[string]string{}
				for k, v := range n.Labels {
					c.Labels[k] = v
				}
				c.Labels[corev1.LabelTopologyZone] = zones[i%len(zones)]
				if full {
					var cpu, mem resource.Quantity
					for _, p := range n.Pods {
						cpu.Add(p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU])
						mem.Add(p.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory])
					}
					c.Allocatable = n.Allocatable.DeepCopy()
					c.Allocatable[corev1.ResourceCPU], c.Allocatable[corev1.ResourceMemory] = cpu, mem
				}
				in.Nodes[i] = &c
			}
			b.ReportAllocs()
			b.ResetTimer()
			claims := 0
			for i := 0; i < b.N; i++ {
				c, err := scheduling.NewCluster(in)
				if err != nil {
					b.Fatal(err)
				}
				claims = 0
				for _, n := range in.Nodes {
					res, err := c.Without([]string{n.Name}, scheduling.Options{})
					if err != nil {
						b.Fatal(err)
					}
					claims += len(res.NodeClaims)
				}
			}
			b.ReportMetric(float64(b.Elapsed()/time.Millisecond)/float64(b.N), "ms/sweep")
			b.ReportMetric(float64(claims), "claims")
		})
	}
}
