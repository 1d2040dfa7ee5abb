package catalog_test

import (
	"testing"

	"github.com/nodewright/nodewright/controller/catalog"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func instanceType(t *testing.T, name string) catalog.InstanceType {
	t.Helper()
	types, err := catalog.InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range types {
		if it.Name == name {
			return it
		}
	}
	t.Fatalf("%s not in catalog", name)
	return catalog.InstanceType{}
}

func expectList(t *testing.T, what string, got corev1.ResourceList, want map[corev1.ResourceName]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s has %d resources %v, want %d", what, len(got), got, len(want))
	}
	for name, w := range want {
		q, ok := got[name]
		if !ok {
			t.Errorf("%s lacks %s", what, name)
			continue
		}
		if q.Cmp(resource.MustParse(w)) != 0 {
			t.Errorf("%s %s = %s, want %s", what, name, q.String(), w)
		}
	}
}

func TestResourcesM5Large(t *testing.T) {
	it := instanceType(t, "m5.large")
	// 8192 MiB less 7.5% VM overhead (614.4, a whole 615 MiB) = 7577 MiB.
	// Reserved with 29 pods: 11*29+255 = 574 MiB, plus 100 MiB eviction = 674.
	capacity, allocatable := catalog.Resources(it, 0)
	expectList(t, "capacity", capacity, map[corev1.ResourceName]string{
		corev1.ResourceCPU: "2", corev1.ResourceMemory: "7577Mi", corev1.ResourcePods: "29",
		corev1.ResourceEphemeralStorage: "20Gi",
	})
	expectList(t, "allocatable", allocatable, map[corev1.ResourceName]string{
		corev1.ResourceCPU: "1930m", corev1.ResourceMemory: "6903Mi", corev1.ResourcePods: "29",
		corev1.ResourceEphemeralStorage: "20Gi",
	})

	// maxPods from userData changes pods and the memory reservation:
	// 7577 - (11*20+255) - 100 = 7002 MiB.
	capacity, allocatable = catalog.Resources(it, 20)
	expectList(t, "capacity(20)", capacity, map[corev1.ResourceName]string{
		corev1.ResourceCPU: "2", corev1.ResourceMemory: "7577Mi", corev1.ResourcePods: "20",
		corev1.ResourceEphemeralStorage: "20Gi",
	})
	expectList(t, "allocatable(20)", allocatable, map[corev1.ResourceName]string{
		corev1.ResourceCPU: "1930m", corev1.ResourceMemory: "7002Mi", corev1.ResourcePods: "20",
		corev1.ResourceEphemeralStorage: "20Gi",
	})
}

func TestResourcesNvidiaGPUAndENIFormula(t *testing.T) {
	it := instanceType(t, "g3.4xlarge")
	if it.MaxPodsENI != 0 || it.MaxENIsDefaultCard != 8 || it.IPv4PerENI != 30 {
		t.Fatalf("catalog row changed: %+v", it)
	}
	// Pods by the ENI formula: 8*(30-1)+2 = 234.
	// CPU reserved on 16 cores: 60+10+5+5+12*2.5 = 110m.
	// Memory: 124928 - ceil(9369.6) = 115558 MiB; less 11*234+255+100 = 2929 MiB.
	capacity, allocatable := catalog.Resources(it, 0)
	expectList(t, "capacity", capacity, map[corev1.ResourceName]string{
		corev1.ResourceCPU: "16", corev1.ResourceMemory: "115558Mi", corev1.ResourcePods: "234",
		corev1.ResourceEphemeralStorage: "20Gi", catalog.ResourceNvidiaGPU: "1",
	})
	expectList(t, "allocatable", allocatable, map[corev1.ResourceName]string{
		corev1.ResourceCPU: "15890m", corev1.ResourceMemory: "112629Mi", corev1.ResourcePods: "234",
		corev1.ResourceEphemeralStorage: "20Gi", catalog.ResourceNvidiaGPU: "1",
	})
}

func TestResourcesNoGPUForOtherManufacturers(t *testing.T) {
	it := catalog.InstanceType{Name: "x", VCPU: 4, MemoryMiB: 16384, GPUCount: 2, GPUManufacturer: "amd", MaxPodsENI: 58}
	capacity, _ := catalog.Resources(it, 0)
	if _, ok := capacity[catalog.ResourceNvidiaGPU]; ok {
		t.Errorf("an AMD GPU type advertises %s", catalog.ResourceNvidiaGPU)
	}
}

func TestDefaultMaxPods(t *testing.T) {
	cases := []struct {
		name string
		it   catalog.InstanceType
		want int
	}{
		{"table", catalog.InstanceType{MaxPodsENI: 29, MaxENIsDefaultCard: 3, IPv4PerENI: 10}, 29},
		{"formula on default card", catalog.InstanceType{MaxENIs: 15, MaxENIsDefaultCard: 4, IPv4PerENI: 15}, 58},
		{"formula on all ENIs", catalog.InstanceType{MaxENIs: 3, IPv4PerENI: 10}, 29},
		{"nothing known", catalog.InstanceType{}, 110},
	}
	for _, c := range cases {
		if got := catalog.DefaultMaxPods(c.it); got != c.want {
			t.Errorf("%s: DefaultMaxPods = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestKubeReservedMilliCPU(t *testing.T) {
	for vcpu, want := range map[int]int64{1: 60, 2: 70, 3: 75, 4: 80, 5: 82, 6: 85, 8: 90, 48: 190, 96: 310, 192: 550} {
		if got := catalog.KubeReservedMilliCPU(vcpu); got != want {
			t.Errorf("KubeReservedMilliCPU(%d) = %d, want %d", vcpu, got, want)
		}
	}
}
