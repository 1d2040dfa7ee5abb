package scheduling

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// A bound above any feasible plan would be wrong; plans from both solvers
// are feasible, so neither may cost less than the bound, on random pods
// and random catalogs with burstable types, per-node costs and zone prices.
func TestLowerBoundNeverAboveAPlan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for trial := 0; trial < 200; trial++ {
		var types []*InstanceType
		for i := 0; i < 1+r.IntN(6); i++ {
			cpu, mem := 1<<r.IntN(5), 1<<(1+r.IntN(6))
			price := float64(cpu)*0.02 + float64(mem)*0.004 + r.Float64()*0.05
			it := itype(fmt.Sprintf("t%d", i), fmt.Sprint(cpu), fmt.Sprintf("%dGi", mem), 4+r.IntN(60), price,
				offerings(off(zoneA, od, price), off(zoneB, spot, price*(0.3+r.Float64()*0.5))))
			if r.IntN(3) == 0 {
				it.Burst = &Burst{BaselineMilliCPU: int64(cpu) * 1000 * int64(1+r.IntN(4)) / 10, SurplusPerVCPUHour: 0.05}
			}
			types = append(types, it)
		}
		np := pool("default", types)
		np.NodeCost = NodeCost{Volumes: r.Float64() * 0.01, Overhead: r.Float64() * 0.01}
		var ps []*corev1.Pod
		for i := 0; i < 1+r.IntN(40); i++ {
			var opts []podOpt
			if r.IntN(4) == 0 {
				opts = append(opts, nodeSelector(zoneKey, zoneA))
			}
			ps = append(ps, pod(fmt.Sprintf("p%d", i), fmt.Sprintf("%dm", 100*(1+r.IntN(20))), fmt.Sprintf("%dMi", 128*(1+r.IntN(30))), opts...))
		}
		in := Input{Pods: ps, NodePools: []*NodePool{np}}
		lb, err := LowerBound(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, plain := range []bool{false, true} {
			res, err := SolveWith(in, Options{PlainFirstFitDecreasing: plain})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Unschedulable) > 0 {
				continue
			}
			if lb > res.TotalPrice*(1+1e-9) {
				t.Fatalf("trial %d: bound $%.5f above a feasible plan's $%.5f (plain %v)", trial, lb, res.TotalPrice, plain)
			}
		}
	}
}

// For identical pods on one type the bound is the exact optimum: whole
// nodes of k pods each, and the last node's cost when pods are few.
func TestLowerBoundIsExactForOneClass(t *testing.T) {
	it := itype("m", "4", "16Gi", 110, 0.2) // 1.5 CPU pods: 2 per node
	for _, n := range []int{1, 2, 4, 10} {
		in := Input{Pods: replicas(n, "p", "1500m", "1Gi"), NodePools: []*NodePool{pool("default", []*InstanceType{it})}}
		lb, err := LowerBound(in)
		if err != nil {
			t.Fatal(err)
		}
		want := 0.2 * math.Ceil(float64(n)/2)
		if n%2 == 1 && n > 1 {
			want = 0.2 * float64(n) / 2 // a fractional node: still a bound
		}
		if math.Abs(lb-want) > 1e-9 {
			t.Errorf("%d pods: bound $%.4f, want $%.4f", n, lb, want)
		}
	}
}
