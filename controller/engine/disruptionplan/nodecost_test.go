package disruptionplan

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// Each pool's volume cost reaches its scheduling view, which prices the
// replacements disruption weighs.
func TestSnapshotPoolsCarryNodeVolumeCost(t *testing.T) {
	a := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	b := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "b"}}
	s, err := NewSnapshot(Objects{NodePools: []*v1.NodePool{a, b}, NodeVolumes: map[string]float64{"a": 0.0219}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, p := range s.Pools {
		got[p.NodePool.Name] = p.Scheduling.NodeCost.Volumes
	}
	if got["a"] != 0.0219 || got["b"] != 0 || len(got) != 2 {
		t.Fatalf("pool volumes %v, want a=0.0219 and b=0", got)
	}
}
