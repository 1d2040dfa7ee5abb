package provisioning

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// The snapshot's per-pool volume cost reaches the engine's NodePool.
func TestInputCarriesNodeVolumeCost(t *testing.T) {
	a := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	b := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "b"}}
	snap := &Snapshot{NodePools: []*v1.NodePool{a, b}, InstanceTypes: map[string][]*scheduling.InstanceType{},
		NodeVolumes: map[string]float64{"a": 0.0219, "b": 0.0042}}
	in := (&Provisioner{}).input(snap, nil)
	if len(in.NodePools) != 2 || in.NodePools[0].NodeCost.Volumes != 0.0219 || in.NodePools[1].NodeCost.Volumes != 0.0042 {
		t.Fatalf("pools %+v, want volumes 0.0219 and 0.0042", in.NodePools)
	}
}
