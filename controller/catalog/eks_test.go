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
	capacity, allocatable := catalog.Resources(it, catalog.Kubelet{})
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
	capacity, allocatable = catalog.Resources(it, catalog.Kubelet{MaxPods: 20})
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
	capacity, allocatable := catalog.Resources(it, catalog.Kubelet{})
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
	capacity, _ := catalog.Resources(it, catalog.Kubelet{})
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

// TestResourcesKubelet works each setting through by hand on m5.large:
// 2 vCPU, capacity memory 7577Mi, 29 pods by default, a 20Gi root volume;
// the EKS defaults reserve 70m CPU and 11*pods+255 MiB, and evict at 100Mi.
func TestResourcesKubelet(t *testing.T) {
	it := instanceType(t, "m5.large")
	mustList := func(kv ...string) corev1.ResourceList {
		l := corev1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
		}
		return l
	}
	cases := []struct {
		name          string
		kubelet       catalog.Kubelet
		pods          string
		cpu, mem, eph string
	}{
		// min(29, 10*2) = 20 pods; 7577 - (11*20+255) - 100 = 7002Mi.
		{"podsPerCore caps the default", catalog.Kubelet{PodsPerCore: 10}, "20", "1930m", "7002Mi", "20Gi"},
		// min(50, 10*2) = 20.
		{"podsPerCore caps maxPods", catalog.Kubelet{MaxPods: 50, PodsPerCore: 10}, "20", "1930m", "7002Mi", "20Gi"},
		// min(29, 100*2) = 29: 7577 - 574 - 100 = 6903Mi.
		{"podsPerCore above maxPods", catalog.Kubelet{PodsPerCore: 100}, "29", "1930m", "6903Mi", "20Gi"},
		// cpu 2000 - 200 - 100 = 1700m; memory 7577 - 1024 - 500 - 100 =
		// 5953Mi; ephemeral 20Gi - 2Gi = 18Gi.
		{"kube and system reserved", catalog.Kubelet{
			KubeReserved:   mustList("cpu", "200m", "memory", "1Gi"),
			SystemReserved: mustList("cpu", "100m", "memory", "500Mi", "ephemeral-storage", "2Gi"),
		}, "29", "1700m", "5953Mi", "18Gi"},
		// Only memory replaced: cpu keeps its 70m default; 7577 - 300 - 100.
		{"kubeReserved replaces per resource", catalog.Kubelet{KubeReserved: mustList("memory", "300Mi")}, "29", "1930m", "7177Mi", "20Gi"},
		// 5% of 7577Mi = 397253017.6 bytes, rounded up to 397253018;
		// (7577-574)Mi = 7343177728 bytes less that is 6945924710.
		// 10% of 20Gi is 2Gi.
		{"eviction percentages", catalog.Kubelet{EvictionHard: map[string]string{"memory.available": "5%", "nodefs.available": "10%"}},
			"29", "1930m", "6945924710", "18Gi"},
		// 7577 - 574 - 1024 = 5979Mi; 100% disables nodefs.available.
		{"eviction quantities replace the default", catalog.Kubelet{EvictionHard: map[string]string{"memory.available": "1Gi", "nodefs.available": "100%"}},
			"29", "1930m", "5979Mi", "20Gi"},
		// Signals that aren't resources don't change allocatable.
		{"other signals", catalog.Kubelet{EvictionHard: map[string]string{"pid.available": "10%", "imagefs.available": "15%"}},
			"29", "1930m", "6903Mi", "20Gi"},
		{"reservations beyond capacity leave zero", catalog.Kubelet{SystemReserved: mustList("memory", "100Gi", "cpu", "3")}, "29", "0", "0", "20Gi"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			capacity, allocatable := catalog.Resources(it, c.kubelet)
			expectList(t, "capacity", capacity, map[corev1.ResourceName]string{
				corev1.ResourceCPU: "2", corev1.ResourceMemory: "7577Mi", corev1.ResourcePods: c.pods,
				corev1.ResourceEphemeralStorage: "20Gi",
			})
			expectList(t, "allocatable", allocatable, map[corev1.ResourceName]string{
				corev1.ResourceCPU: c.cpu, corev1.ResourceMemory: c.mem, corev1.ResourcePods: c.pods,
				corev1.ResourceEphemeralStorage: c.eph,
			})
		})
	}
}
