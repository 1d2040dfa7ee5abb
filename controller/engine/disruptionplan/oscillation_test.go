package disruptionplan

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
)

// randomSnapshot is a pool over catalog(16) (spot cheaper than on-demand)
// with nodes of random types and capacity types, each holding random pods
// up to a random utilisation.
func randomSnapshot(seed uint64, nodes int) *Snapshot {
	r := rand.New(rand.NewPCG(seed, 7))
	p := newPool("p", catalog(16))
	s := snapshot([]*Pool{p})
	cpus := []string{"100m", "250m", "500m", "1", "1500m"}
	milli := []int64{100, 250, 500, 1000, 1500}
	for i := 0; i < nodes; i++ {
		size := []int{1, 2, 4, 8, 16}[r.IntN(5)]
		ct := od
		if r.IntN(2) == 0 {
			ct = spot
		}
		var ps []*corev1.Pod
		budget := int64(float64(size*1000) * r.Float64())
		for budget > 0 {
			k := r.IntN(len(cpus))
			if milli[k] > budget {
				break
			}
			budget -= milli[k]
			ps = append(ps, newPod(cpus[k]))
		}
		s.Nodes = append(s.Nodes, newNode(fmt.Sprintf("n-%03d", i), p, fmt.Sprintf("t-%dx", size), ct, ps))
	}
	return s
}

func syntheticSnapshot(seed uint64, nodes, pods int) *Snapshot {
	return FromInput(workloads.SyntheticCluster(nodes, pods, seed), now, 24*time.Hour, func(sp *scheduling.NodePool) *v1.NodePool {
		np := &v1.NodePool{}
		np.Name = sp.Name
		np.Spec.Disruption = v1.Disruption{ConsolidationPolicy: v1.ConsolidationPolicyWhenEmptyOrUnderutilized, ConsolidateAfter: "0s",
			Budgets: []v1.Budget{{Nodes: "20%"}}}
		return np
	})
}

func podCount(s *Snapshot) int {
	n := 0
	for _, node := range s.Nodes {
		for _, p := range node.Pods {
			if movable(p) {
				n++
			}
		}
	}
	return n
}

// TestNoOscillation drives random clusters through passes, carrying out
// each decision, and checks that consolidation reaches a fixed point in a
// bounded number of steps, stays there, never raises the $/h and never
// loses a pod.
func TestNoOscillation(t *testing.T) {
	type gen struct {
		name string
		snap func() *Snapshot
	}
	var gens []gen
	for seed := uint64(1); seed <= 16; seed++ {
		gens = append(gens, gen{fmt.Sprintf("random-%d", seed), func() *Snapshot { return randomSnapshot(seed, 12+int(seed)*3) }})
	}
	for seed := uint64(1); seed <= 4; seed++ {
		gens = append(gens, gen{fmt.Sprintf("synthetic-%d", seed), func() *Snapshot { return syntheticSnapshot(seed, 40, 400) }})
	}
	// Drifted nodes too (and expired ones, which the engine leaves to the
	// expiration controller): replacements are current, so drift comes to rest.
	for seed := uint64(1); seed <= 4; seed++ {
		gens = append(gens, gen{fmt.Sprintf("drift-expiry-%d", seed), func() *Snapshot {
			s := randomSnapshot(100+seed, 20)
			s.Pools[0].NodePool.Spec.Template.Spec.ExpireAfter = "720h"
			r := rand.New(rand.NewPCG(seed, 9))
			for _, n := range s.Nodes {
				switch r.IntN(5) {
				case 0:
					n.Drifted = "AMI ami-old replaced by ami-new"
				case 1:
					n.Created = now.Add(-800 * time.Hour)
				}
			}
			return s
		}})
	}
	for _, g := range gens {
		t.Run(g.name, func(t *testing.T) {
			s := g.snap()
			pods := podCount(s)
			start := s.Price()
			maxSteps := 2*len(s.Nodes) + 5
			steps, actions := 0, 0
			for ; ; steps++ {
				if steps > maxSteps {
					t.Fatalf("no fixed point after %d steps", maxSteps)
				}
				res := evaluate(t, s, Options{})
				if len(res.Decisions) == 0 {
					break
				}
				before := s.Price()
				consolidation := true
				for i, d := range res.Decisions {
					consolidation = consolidation && d.Method != MethodDrift
					if err := s.Apply(d, func(j int) string { return fmt.Sprintf("r-%d-%d-%d", steps, i, j) }); err != nil {
						t.Fatal(err)
					}
					actions++
				}
				if after := s.Price(); consolidation && after > before+1e-9 {
					t.Fatalf("step %d (%s) raised $/h from %.4f to %.4f", steps, messages(res), before, after)
				}
				if got := podCount(s); got != pods {
					t.Fatalf("step %d (%s): %d pods, want %d", steps, messages(res), got, pods)
				}
				s.Now = s.Now.Add(time.Minute)
			}
			// At the fixed point, later passes find nothing either.
			for i := 0; i < 3; i++ {
				s.Now = s.Now.Add(time.Hour)
				if res := evaluate(t, s, Options{}); len(res.Decisions) != 0 {
					t.Fatalf("fixed point left: %s", messages(res))
				}
			}
			t.Logf("%d actions in %d steps: $%.3f/h -> $%.3f/h, %d nodes left", actions, steps, start, s.Price(), len(s.Nodes))
			if actions == 0 {
				t.Errorf("the workload gave consolidation nothing to do")
			}
		})
	}
}
