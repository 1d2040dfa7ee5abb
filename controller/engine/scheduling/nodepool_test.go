package scheduling

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

func TestNodePoolForNodeCost(t *testing.T) {
	for _, tc := range []struct {
		cost string
		want float64
	}{{"", 0}, {"0", 0}, {"0.012", 0.012}, {"1.5", 1.5}} {
		np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
		np.Spec.CostPerNodeHour = tc.cost
		got := NodePoolFor(np, nil).NodeCost
		if got.Overhead != tc.want || got.Volumes != 0 {
			t.Errorf("costPerNodeHour %q: NodeCost = %+v, want overhead %v and no volumes", tc.cost, got, tc.want)
		}
	}
}

// The overhead reaches a node's true cost beside its instance price.
func TestNodePoolForOverheadInNodeCost(t *testing.T) {
	np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
	np.Spec.CostPerNodeHour = "0.25"
	it := &InstanceType{Name: "m5.large", Offerings: []Offering{{Zone: "us-east-1a", CapacityType: "on-demand", Price: 0.096, Available: true}}}
	pool := NodePoolFor(np, []*InstanceType{it})
	c := NodeCostOf(it, it.Offerings[0], pool.NodeCost, 500)
	if c.Instance != 0.096 || c.Overhead != 0.25 || c.Total() != 0.096+0.25 {
		t.Errorf("cost = %+v (total %v), want instance 0.096 + overhead 0.25", c, c.Total())
	}
}

// Only the cost is new: the rest of the view is unchanged by it.
func TestNodePoolForTemplate(t *testing.T) {
	two, w := 2, int32(7)
	np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
	np.Spec.Weight = &w
	np.Spec.CostPerNodeHour = "0.01"
	np.Spec.Template.Spec.Requirements = []v1.NodeSelectorRequirementWithMinValues{
		{Key: corev1.LabelInstanceTypeStable, Operator: corev1.NodeSelectorOpIn, Values: []string{"a", "b"}, MinValues: &two}}
	got := NodePoolFor(np, nil)
	if got.Weight != 7 || len(got.Requirements) != 1 || got.MinValues[corev1.LabelInstanceTypeStable] != 2 {
		t.Errorf("NodePoolFor = %+v", got)
	}
}
