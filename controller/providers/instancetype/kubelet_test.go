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

// The node's ephemeral storage is the volume kubelet's filesystem is on,
// as the launch template sizes it.
func TestEphemeralVolume(t *testing.T) {
	gib := int64(1 << 30)
	vol := func(device string, size string, root bool) v1.BlockDeviceMapping {
		q := resource.MustParse(size)
		return v1.BlockDeviceMapping{DeviceName: &device, RootVolume: root, EBS: &v1.BlockDevice{VolumeSize: &q}}
	}
	class := func(alias string, bdm ...v1.BlockDeviceMapping) *v1.EC2NodeClass {
		return &v1.EC2NodeClass{Spec: v1.EC2NodeClassSpec{AMISelectorTerms: []v1.AMISelectorTerm{{Alias: alias}}, BlockDeviceMappings: bdm}}
	}
	for name, tc := range map[string]struct {
		nc   *v1.EC2NodeClass
		want int64
	}{
		"no mappings: the default":         {class("al2023@latest"), 0},
		"AL2023 root volume":               {class("al2023@latest", vol("/dev/xvda", "100Gi", false)), 100 * gib},
		"rounded up to whole GiB":          {class("al2023@latest", vol("/dev/xvda", "100G", false)), 94 * gib},
		"Bottlerocket data volume, not OS": {class("bottlerocket@latest", vol("/dev/xvda", "4Gi", false), vol("/dev/xvdb", "60Gi", false)), 60 * gib},
		"rootVolume marks another device":  {class("al2023@latest", vol("/dev/xvda", "20Gi", false), vol("/dev/xvdc", "200Gi", true)), 200 * gib},
		"another device alone is not it":   {class("al2023@latest", vol("/dev/xvdc", "200Gi", false)), 0},
	} {
		if got := Kubelet(tc.nc).RootVolumeBytes; got != tc.want {
			t.Errorf("%s: RootVolumeBytes %d, want %d", name, got, tc.want)
		}
	}
}
