package workloads_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
)

// workloadStats groups pods by their app label.
type workloadStats struct {
	replicas                               map[string]int
	spread, anti, affinity, arm64, amd64   map[string]bool
	gpu, stateful, sidecars, inits, native int
}

func statsOf(t *testing.T, pods []*corev1.Pod) workloadStats {
	t.Helper()
	s := workloadStats{replicas: map[string]int{}, spread: map[string]bool{}, anti: map[string]bool{}, affinity: map[string]bool{}, arm64: map[string]bool{}, amd64: map[string]bool{}}
	names := map[string]bool{}
	for _, p := range pods {
		app := p.Labels["app"]
		if app == "" || len(p.OwnerReferences) != 1 {
			t.Fatalf("%s: app label %q, %d owners", p.Name, app, len(p.OwnerReferences))
		}
		if names[p.Namespace+"/"+p.Name] {
			t.Fatalf("duplicate pod %s/%s", p.Namespace, p.Name)
		}
		names[p.Namespace+"/"+p.Name] = true
		if want := fmt.Sprintf("%s-%d", app, s.replicas[app]); p.Name != want {
			t.Fatalf("pod %s: want name %s", p.Name, want)
		}
		first := s.replicas[app] == 0
		s.replicas[app]++
		for _, c := range p.Spec.TopologySpreadConstraints {
			if c.TopologyKey == corev1.LabelTopologyZone && c.MaxSkew == 1 && c.WhenUnsatisfiable == corev1.DoNotSchedule && c.LabelSelector.MatchLabels["app"] == app {
				s.spread[app] = true
			}
		}
		if a := p.Spec.Affinity; a != nil {
			if a.PodAntiAffinity != nil && a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey == corev1.LabelHostname {
				s.anti[app] = true
			}
			if a.PodAffinity != nil && a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey == corev1.LabelTopologyZone {
				s.affinity[app] = true
			}
		}
		switch p.Spec.NodeSelector[corev1.LabelArchStable] {
		case "arm64":
			s.arm64[app] = true
		case "amd64":
			s.amd64[app] = true
		}
		if !first {
			continue
		}
		if _, ok := p.Spec.Containers[0].Resources.Requests["nvidia.com/gpu"]; ok {
			s.gpu++
		}
		if p.OwnerReferences[0].Kind == "StatefulSet" {
			s.stateful++
		}
		if len(p.Spec.Containers) > 1 {
			s.sidecars++
		}
		for _, c := range p.Spec.InitContainers {
			if c.RestartPolicy != nil {
				s.native++
			} else {
				s.inits++
			}
		}
	}
	return s
}

func TestRealisticPodsShape(t *testing.T) {
	const n = 5000
	pods := workloads.RealisticPods(n, 1)
	if len(pods) != n {
		t.Fatalf("got %d pods, want %d", len(pods), n)
	}
	s := statsOf(t, pods)
	w := len(s.replicas)
	if w < n/15-n/150 || w > n/15+n/150 {
		t.Errorf("%d workloads, want about n/15 = %d", w, n/15)
	}
	counts := make([]int, 0, w)
	for _, c := range s.replicas {
		counts = append(counts, c)
	}
	sort.Ints(counts)
	small, big := 0, 0
	for _, c := range counts {
		if c <= 5 {
			small++
		}
		if c >= 50 {
			big++
		}
	}
	// Heavy tail: most workloads are small, a few are big.
	if small < w*2/5 || big == 0 || big > w/10 || counts[len(counts)-1] > 400 {
		t.Errorf("replicas: %d of %d workloads with 1-5, %d with 50+, largest %d", small, w, big, counts[len(counts)-1])
	}
	if f := float64(len(s.spread)) / float64(w); f < 0.06 || f > 0.14 {
		t.Errorf("%.3f of workloads have a zonal spread, want about 0.10", f)
	}
	spreadPods := 0
	for app := range s.spread {
		spreadPods += s.replicas[app]
	}
	for name, got := range map[string]int{"arm64-only": len(s.arm64), "amd64-only": len(s.amd64), "GPU": s.gpu, "StatefulSet": s.stateful,
		"hostname anti-affinity": len(s.anti), "zonal affinity": len(s.affinity), "sidecars": s.sidecars, "init containers": s.inits, "native sidecars": s.native} {
		if got == 0 {
			t.Errorf("no %s workloads", name)
		}
	}
	for app := range s.anti {
		if s.replicas[app] > 12 {
			t.Errorf("%s: hostname anti-affinity with %d replicas", app, s.replicas[app])
		}
	}
	for app := range s.affinity {
		if s.spread[app] {
			t.Errorf("%s: zonal affinity and zonal spread together can't place two replicas", app)
		}
	}
	// Sizes: from sidecar-heavy 50m pods to 8 vCPU / 32 GiB apps, 1-8 GiB per vCPU.
	minCPU, maxCPU, maxMem, bothInit := int64(1<<62), int64(0), int64(0), 0
	for _, p := range pods {
		app := p.Spec.Containers[0].Resources.Requests
		cpu, mem := app.Cpu().MilliValue(), app.Memory().Value()
		if ratio := float64(mem) / (1 << 30) / (float64(cpu) / 1000); ratio < 1 || ratio > 8.01 {
			t.Fatalf("%s: app container %dm/%dMi is %.2f GiB per vCPU", p.Name, cpu, mem>>20, ratio)
		}
		minCPU, maxCPU, maxMem = min(minCPU, cpu), max(maxCPU, cpu), max(maxMem, mem)
		if len(p.Spec.InitContainers) > 0 {
			reqs := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
			var sum int64
			for _, c := range p.Spec.Containers {
				sum += c.Resources.Requests.Cpu().MilliValue()
			}
			if reqs.Cpu().MilliValue() > sum {
				bothInit++
			}
		}
	}
	if minCPU != 50 || maxCPU != 8000 || maxMem > 32<<30 {
		t.Errorf("app containers range %dm to %dm, up to %dMi; want 50m to 8000m, at most 32Gi", minCPU, maxCPU, maxMem>>20)
	}
	if bothInit == 0 {
		t.Errorf("no pod whose request comes from an init container or native sidecar")
	}
	t.Logf("%d workloads (%d StatefulSets, %d GPU), replicas median %d max %d; spread %d workloads / %d pods; arm64 %d, amd64 %d, anti %d, affinity %d; sidecars %d, init %d, native %d",
		w, s.stateful, s.gpu, counts[w/2], counts[w-1], len(s.spread), spreadPods, len(s.arm64), len(s.amd64), len(s.anti), len(s.affinity), s.sidecars, s.inits, s.native)
}

func TestRealisticPodsDeterministic(t *testing.T) {
	enc := func(pods []*corev1.Pod) string {
		data, err := json.Marshal(pods)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	a := enc(workloads.RealisticPods(1000, 1))
	if b := enc(workloads.RealisticPods(1000, 1)); a != b {
		t.Error("same n and seed gave different pods")
	}
	if b := enc(workloads.RealisticPods(1000, 2)); a == b {
		t.Error("seeds 1 and 2 gave the same pods")
	}
	// A bigger workload is drawn afresh, not the smaller one extended.
	if b := enc(workloads.RealisticPods(5000, 1)[:1000]); a == b {
		t.Error("the 1000-pod workload is a prefix of the 5000-pod one")
	}
	if got := workloads.RealisticPods(0, 1); len(got) != 0 {
		t.Errorf("0 pods: got %d", len(got))
	}
	for _, n := range []int{1, 7, 16, 31} {
		if got := workloads.RealisticPods(n, 3); len(got) != n {
			t.Errorf("%d pods: got %d", n, len(got))
		}
	}
}

func TestRealisticDaemonSets(t *testing.T) {
	var cpu, mem int64
	for _, p := range workloads.RealisticDaemonSets() {
		reqs := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{})
		cpu += reqs.Cpu().MilliValue()
		mem += reqs.Memory().Value()
		if p.OwnerReferences[0].Kind != "DaemonSet" {
			t.Errorf("%s: owner %s", p.Name, p.OwnerReferences[0].Kind)
		}
	}
	if cpu != 185 || mem != 90<<20 {
		t.Errorf("daemonsets request %dm and %dMi per node, want 185m and 90Mi", cpu, mem>>20)
	}
}
