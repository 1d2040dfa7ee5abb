package main

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func tinyType(name, cpu, mem string, price float64, extra map[string]string) InstanceType {
	labels := map[string]string{corev1.LabelArchStable: "amd64", "nodewright.dev/instance-family": name[:2]}
	for k, v := range extra {
		labels[k] = v
	}
	return InstanceType{
		Name:   name,
		Labels: labels,
		Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem),
			corev1.ResourcePods: resource.MustParse("20"),
		},
		Offerings: []Offering{
			{Zone: "zone-a", CapacityType: "spot", Price: price * 0.4, Available: true},
			{Zone: "zone-a", CapacityType: "on-demand", Price: price, Available: true},
			{Zone: "zone-b", CapacityType: "on-demand", Price: price, Available: true},
		},
	}
}

func pod(name, cpu, mem string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
		}}}},
	}
}

func seedInput() *Input {
	in := &Input{
		InstanceTypes: []InstanceType{
			tinyType("t1.small", "2", "4Gi", 0.05, nil),
			tinyType("m1.medium", "4", "8Gi", 0.09, nil),
			tinyType("g1.large", "8", "16Gi", 0.40, map[string]string{"nodewright.dev/instance-gpu-name": "t4"}),
		},
		NodePools: []NodePool{{Name: "default"}},
		DaemonSets: []*corev1.Pod{
			pod("ds-logs", "100m", "128Mi"),
		},
	}
	for i := range 10 {
		in.Pods = append(in.Pods, pod(fmt.Sprintf("web-%d", i), "1", "1.5Gi"))
	}
	return in
}

// checkPlan fails t unless every pod of in is placed exactly once and
// every option of every claim has room for its pods and the daemonset.
func checkPlan(t *testing.T, in *Input, plan *Plan) {
	t.Helper()
	if len(plan.Unschedulable) > 0 {
		t.Fatalf("unschedulable: %+v", plan.Unschedulable)
	}
	requests := map[string]corev1.ResourceList{}
	for _, p := range in.Pods {
		requests["default/"+p.Name] = p.Spec.Containers[0].Resources.Requests
	}
	types := map[string]InstanceType{}
	for _, it := range in.InstanceTypes {
		types[it.Name] = it
	}
	placed := map[string]int{}
	for i, nc := range plan.NodeClaims {
		sum := in.DaemonSets[0].Spec.Containers[0].Resources.Requests.DeepCopy()
		for _, id := range nc.Pods {
			placed[id]++
			for name, q := range requests[id] {
				total := sum[name]
				total.Add(q)
				sum[name] = total
			}
		}
		if len(nc.InstanceTypes) == 0 {
			t.Fatalf("claim %d has no options", i)
		}
		for _, name := range nc.InstanceTypes {
			it, ok := types[name]
			if !ok {
				t.Fatalf("claim %d offers unknown type %s", i, name)
			}
			for res, q := range sum {
				room := it.Allocatable[res]
				if q.Cmp(room) > 0 {
					t.Errorf("claim %d: %s has %s %s, its pods and daemonset ask %s", i, name, room.String(), res, q.String())
				}
			}
			if pods := it.Allocatable[corev1.ResourcePods]; int64(len(nc.Pods)+1) > pods.Value() {
				t.Errorf("claim %d: %s takes %d pods, got %d and a daemonset", i, name, pods.Value(), len(nc.Pods))
			}
		}
	}
	for _, p := range in.Pods {
		if n := placed["default/"+p.Name]; n != 1 {
			t.Errorf("pod %s placed %d times", p.Name, n)
		}
	}
}

func TestSeedPlacesEveryPodOnNodesThatFit(t *testing.T) {
	in := seedInput()
	plan, err := Run(context.Background(), in, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, in, plan)
	if len(plan.NodeClaims) == 0 || plan.SolveSeconds <= 0 {
		t.Fatalf("plan has %d claims, solve %.6fs", len(plan.NodeClaims), plan.SolveSeconds)
	}
	cheapest := map[string]float64{}
	for _, it := range in.InstanceTypes {
		cheapest[it.Name] = it.Offerings[0].Price // the spot offering
	}
	for _, nc := range plan.NodeClaims {
		// Karpenter keeps every type that fits as an option, cheapest first.
		for i := 1; i < len(nc.InstanceTypes); i++ {
			if cheapest[nc.InstanceTypes[i]] < cheapest[nc.InstanceTypes[i-1]] {
				t.Errorf("options not cheapest first: %v", nc.InstanceTypes)
			}
		}
		if nc.Price != cheapest[nc.InstanceTypes[0]] {
			t.Errorf("claim on %v priced %.3f, want its first option's spot price %.3f", nc.InstanceTypes, nc.Price, cheapest[nc.InstanceTypes[0]])
		}
	}
	t.Logf("%d claims, first %+v", len(plan.NodeClaims), plan.NodeClaims[0])
}

// Our keys go in and come back: a pool limited to on-demand yields claims
// that say nodewright.dev/capacity-type In [on-demand], priced on demand;
// a pod asking for a GPU name only gets the type that has one.
func TestKeysAreTranslatedBothWays(t *testing.T) {
	in := seedInput()
	in.NodePools[0].Requirements = []Requirement{{Key: "nodewright.dev/capacity-type", Operator: corev1.NodeSelectorOpIn, Values: []string{"on-demand"}}}
	gpu := pod("trainer", "1", "1Gi")
	gpu.Spec.NodeSelector = map[string]string{"nodewright.dev/instance-gpu-name": "t4"}
	in.Pods = append(in.Pods, gpu)
	plan, err := Run(context.Background(), in, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, in, plan)
	for _, nc := range plan.NodeClaims {
		var ct *Requirement
		for i, r := range nc.Requirements {
			if r.Key == "karpenter.sh/capacity-type" {
				t.Errorf("Karpenter's key leaked into the plan: %+v", r)
			}
			if r.Key == "nodewright.dev/capacity-type" {
				ct = &nc.Requirements[i]
			}
		}
		if ct == nil || ct.Operator != corev1.NodeSelectorOpIn || len(ct.Values) != 1 || ct.Values[0] != "on-demand" {
			t.Errorf("claim %v: capacity type requirement %+v, want In [on-demand]", nc.InstanceTypes, ct)
		}
		hasTrainer := false
		for _, id := range nc.Pods {
			hasTrainer = hasTrainer || id == "default/trainer"
		}
		if hasTrainer && (len(nc.InstanceTypes) != 1 || nc.InstanceTypes[0] != "g1.large") {
			t.Errorf("the GPU pod's claim offers %v, want only g1.large", nc.InstanceTypes)
		}
		for _, it := range in.InstanceTypes {
			if it.Name == nc.InstanceTypes[0] && nc.Price != it.Offerings[1].Price {
				t.Errorf("claim on %s priced %.3f, want its on-demand %.3f", it.Name, nc.Price, it.Offerings[1].Price)
			}
		}
	}
}

// A type without a GPU must not match a pod that asks for a GPU name,
// although it lacks the label rather than carrying another value.
func TestMissingLabelsDoNotMatch(t *testing.T) {
	in := seedInput()
	gpu := pod("trainer", "500m", "512Mi")
	gpu.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
			Key: "nodewright.dev/instance-gpu-name", Operator: corev1.NodeSelectorOpExists}}}}}}}
	in.Pods = []*corev1.Pod{gpu}
	plan, err := Run(context.Background(), in, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, in, plan)
	if len(plan.NodeClaims) != 1 || len(plan.NodeClaims[0].InstanceTypes) != 1 || plan.NodeClaims[0].InstanceTypes[0] != "g1.large" {
		t.Fatalf("claims %+v, want one on g1.large only", plan.NodeClaims)
	}
}

func TestBadInputIsRefused(t *testing.T) {
	for name, mutate := range map[string]func(*Input){
		"no pools":       func(in *Input) { in.NodePools = nil },
		"duplicate type": func(in *Input) { in.InstanceTypes = append(in.InstanceTypes, in.InstanceTypes[0]) },
		"bad operator":   func(in *Input) { in.NodePools[0].Requirements = []Requirement{{Key: "x", Operator: "Like"}} },
		"no offerings":   func(in *Input) { in.InstanceTypes[0].Offerings = nil },
		"duplicate pod":  func(in *Input) { in.Pods = append(in.Pods, in.Pods[0]) },
	} {
		t.Run(name, func(t *testing.T) {
			in := seedInput()
			mutate(in)
			if _, err := Run(context.Background(), in, 1); err == nil {
				t.Fatal("accepted")
			} else {
				t.Log(err)
			}
		})
	}
}
