package simulate

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// TestInstanceTypesHonourNodeClassKubelet: each pool's types are sized by its
// own node class's kubelet settings, as the controller sizes them.
func TestInstanceTypesHonourNodeClassKubelet(t *testing.T) {
	maxPods := int32(12)
	pool := func(name, class string) *v1.NodePool {
		return &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1.NodePoolSpec{Template: v1.NodeClaimTemplate{
			Spec: v1.NodeClaimTemplateSpec{NodeClassRef: &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: class}}}}}
	}
	objs := Objects{NodeClasses: map[string]*v1.EC2NodeClass{
		"plain": {ObjectMeta: metav1.ObjectMeta{Name: "plain"}},
		"reserved": {ObjectMeta: metav1.ObjectMeta{Name: "reserved"}, Spec: v1.EC2NodeClassSpec{Kubelet: &v1.KubeletConfiguration{
			MaxPods: &maxPods, SystemReserved: map[string]string{"cpu": "300m", "memory": "600Mi"}}}},
	}}
	source := instanceTypeSource(Options{Region: "us-east-1", Zones: []string{"us-east-1a"}, At: testAt}, objs)
	m5 := func(np *v1.NodePool) corev1.ResourceList {
		types, err := source(np)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range types {
			if it.Name == "m5.large" {
				return it.Allocatable
			}
		}
		t.Fatal("m5.large missing")
		return nil
	}
	// 7577Mi less 11*29+255 = 574Mi and 100Mi; with maxPods 12 and
	// system-reserved: 7577 - 387 - 100 - 600 = 6490Mi, 2000m - 70m - 300m.
	for name, tc := range map[string]struct {
		np       *v1.NodePool
		cpu, mem string
	}{
		"plain":                       {pool("a", "plain"), "1930m", "6903Mi"},
		"reserved":                    {pool("b", "reserved"), "1630m", "6490Mi"},
		"plain again, from the cache": {pool("c", "plain"), "1930m", "6903Mi"},
	} {
		got := m5(tc.np)
		if got.Cpu().Cmp(resource.MustParse(tc.cpu)) != 0 || got.Memory().Cmp(resource.MustParse(tc.mem)) != 0 {
			t.Errorf("%s: m5.large allocatable cpu %s memory %s, want %s and %s", name, got.Cpu(), got.Memory(), tc.cpu, tc.mem)
		}
	}
}
