package scheduling

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// A bound above any feasible plan would be wrong; plans from both solvers
// are feasible, so neither may cost less than the bound, on random pods
// and random catalogs with burstable types, per-node costs and zone prices.
func TestLowerBoundNeverAboveAPlan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for trial := 0; trial < 200; trial++ {
		in := randomInput(r)
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

// randomInput is up to 40 pods (some pinned to a zone) over up to 6 types
// with spot and on-demand prices, some burstable, in a pool with per-node
// costs.
func randomInput(r *rand.Rand) Input {
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
	return in
}

// The Pricer prices a plan's own claims as the plan does: it is the rule
// other planners' plans are priced by in the comparison benchmark.
func TestPricerAgreesWithPlans(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for trial := 0; trial < 100; trial++ {
		in := randomInput(r)
		res, err := Solve(in)
		if err != nil {
			t.Fatal(err)
		}
		pr, err := NewPricer(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, nc := range res.NodeClaims {
			var types []string
			for _, o := range nc.Options {
				types = append(types, o.InstanceType.Name)
			}
			var reqs []corev1.NodeSelectorRequirement
			for _, req := range nc.Requirements.NodeSelectorRequirements() {
				if req.Key == zoneKey || req.Key == ctKey {
					reqs = append(reqs, req)
				}
			}
			got, fits, ok := pr.Cheapest(nc.NodePool, types, reqs, nc.Pods)
			want := nc.Chosen().Cost.Total()
			if !ok || !fits || math.Abs(got.Cost.Total()-want) > 1e-12 {
				t.Fatalf("trial %d: pricer says $%.6f (fits %v, ok %v), the plan $%.6f", trial, got.Cost.Total(), fits, ok, want)
			}
		}
	}
}

// GPU pods on one-GPU types need a node each however little else they
// ask: the bound weighs the GPU dimension, so it reaches the optimum,
// three GPU nodes whose spare CPU hosts the CPU pods.
func TestLowerBoundCountsGPUs(t *testing.T) {
	gpuType := itype("g", "8", "32Gi", 110, 1.0)
	gpuType.Allocatable["nvidia.com/gpu"] = resource.MustParse("1")
	cpuType := itype("c", "8", "32Gi", 110, 0.4)
	pods := replicas(3, "gpu", "1", "1Gi", requests("nvidia.com/gpu", "1"))
	pods = append(pods, replicas(8, "cpu", "1", "1Gi")...)
	in := Input{Pods: pods, NodePools: []*NodePool{pool("default", []*InstanceType{gpuType, cpuType})}}
	lb, err := LowerBound(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * 1.0; math.Abs(lb-want) > 1e-9 {
		t.Errorf("bound $%.4f, want $%.4f: three one-GPU nodes", lb, want)
	}
	res, err := Solve(in)
	if err != nil {
		t.Fatal(err)
	}
	if lb > res.TotalPrice*(1+1e-9) {
		t.Errorf("bound $%.4f above the plan's $%.4f", lb, res.TotalPrice)
	}
}

// When every pod is alike, the bound counts whole nodes: ten pods that fit
// three to a $0.05 node and seven to a $0.118 one cannot be hosted for less
// than one of each, $0.168, though the cheaper rate per pod prices ten at
// $0.167.
func TestLowerBoundCountsWholeNodesForAlikePods(t *testing.T) {
	b, err := LowerBound(tenAlikePods())
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(b-0.168) > 1e-9 {
		t.Fatalf("bound $%.4f/h, want $0.168", b)
	}
}
