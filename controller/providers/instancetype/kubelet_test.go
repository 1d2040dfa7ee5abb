package instancetype

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
)

func TestKubelet(t *testing.T) {
	if got := Kubelet(&v1.EC2NodeClass{}); !reflect.DeepEqual(got, catalog.Kubelet{}) {
		t.Errorf("no kubelet block: %+v, want the defaults", got)
	}
	maxPods, perCore := int32(40), int32(8)
	nc := &v1.EC2NodeClass{Spec: v1.EC2NodeClassSpec{Kubelet: &v1.KubeletConfiguration{
		MaxPods: &maxPods, PodsPerCore: &perCore,
		SystemReserved: map[string]string{"cpu": "100m", "pid": "1000"},
		KubeReserved:   map[string]string{"memory": "1Gi"},
		EvictionHard:   map[string]string{"memory.available": "5%"},
		EvictionSoft:   map[string]string{"memory.available": "10%"},
	}}}
	want := catalog.Kubelet{MaxPods: 40, PodsPerCore: 8,
		SystemReserved: corev1.ResourceList{"cpu": resource.MustParse("100m"), "pid": resource.MustParse("1000")},
		KubeReserved:   corev1.ResourceList{"memory": resource.MustParse("1Gi")},
		EvictionHard:   map[string]string{"memory.available": "5%"},
	}
	if got := Kubelet(nc); !reflect.DeepEqual(got, want) {
		t.Errorf("Kubelet\n got %+v\nwant %+v", got, want)
	}
}
