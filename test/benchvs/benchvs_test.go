package benchvs

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
)

// fakeEnv makes the test binary act as karpenterbench: "plan" writes one
// claim per pod on the first pool and type, "hang" sleeps
// until killed, "fail" exits 1 with a message.
const fakeEnv = "BENCHVS_FAKE_KARPENTERBENCH"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeKarpenterbench(mode))
	}
	os.Exit(m.Run())
}

func fakeKarpenterbench(mode string) int {
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	in, out := fs.String("in", "", ""), fs.String("out", "", "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	switch mode {
	case "hang":
		time.Sleep(time.Minute)
		return 0
	case "fail":
		fmt.Fprintln(os.Stderr, "karpenterbench: parsing input: boom")
		return 1
	}
	raw, err := os.ReadFile(*in)
	if err != nil {
		return 3
	}
	var input WireInput
	if err := json.Unmarshal(raw, &input); err != nil {
		return 4
	}
	plan := Plan{SolveSeconds: 0.5, ExistingNodes: []ExistingNode{}, Unschedulable: []Unschedulable{}}
	for _, p := range input.Pods {
		plan.NodeClaims = append(plan.NodeClaims, NodeClaim{NodePool: input.NodePools[0].Name,
			InstanceTypes: []string{input.InstanceTypes[0].Name}, Pods: []string{PodID(p)}, Price: input.InstanceTypes[0].Offerings[0].Price})
	}
	raw, _ = json.Marshal(plan)
	if err := os.WriteFile(*out, raw, 0o644); err != nil {
		return 5
	}
	return 0
}

func TestWireWritesSharedTypesOnceAndNarrowsPools(t *testing.T) {
	types := workloads.SyntheticInstanceTypes(5)
	two := 2
	onDemand := &scheduling.NodePool{Name: "on-demand", Weight: 10, InstanceTypes: types[:2],
		Requirements: []corev1.NodeSelectorRequirement{{Key: "nodewright.dev/instance-cpu", Operator: corev1.NodeSelectorOpIn, Values: []string{"1", "2"}}},
		MinValues:    map[string]int{"nodewright.dev/instance-cpu": two},
		Limits:       corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100")},
		InUse:        corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("30")},
		Taints:       []corev1.Taint{{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule}}}
	in := scheduling.Input{Pods: workloads.DiversePods(10), NodePools: []*scheduling.NodePool{workloads.DefaultNodePool(types), onDemand}}
	var buf bytes.Buffer
	if err := WriteInput(&buf, in); err != nil {
		t.Fatal(err)
	}
	var wire WireInput
	if err := json.Unmarshal(buf.Bytes(), &wire); err != nil {
		t.Fatal(err)
	}
	if len(wire.InstanceTypes) != 5 || len(wire.Pods) != 10 || len(wire.NodePools) != 2 {
		t.Fatalf("wrote %d types, %d pods, %d pools; want 5, 10, 2", len(wire.InstanceTypes), len(wire.Pods), len(wire.NodePools))
	}
	if got := wire.InstanceTypes[2]; got.Name != types[2].Name || len(got.Offerings) != len(types[2].Offerings) || got.Allocatable.Cpu().Cmp(*types[2].Allocatable.Cpu()) != 0 {
		t.Errorf("type 2 written as %+v", got)
	}
	for _, r := range wire.NodePools[0].Requirements {
		if r.Key == corev1.LabelInstanceTypeStable {
			t.Errorf("the pool that may launch the whole catalog was narrowed: %+v", r)
		}
	}
	np := wire.NodePools[1]
	var narrowed, minValues bool
	for _, r := range np.Requirements {
		if r.Key == corev1.LabelInstanceTypeStable {
			narrowed = strings.Join(r.Values, ",") == types[0].Name+","+types[1].Name
		}
		if r.Key == "nodewright.dev/instance-cpu" {
			minValues = r.MinValues != nil && *r.MinValues == 2
		}
	}
	if !narrowed || !minValues {
		t.Errorf("pool on-demand: requirements %+v; want its two types and minValues 2", np.Requirements)
	}
	if left := np.Limits[corev1.ResourceCPU]; left.Cmp(resource.MustParse("70")) != 0 || np.Weight != 10 || len(np.Taints) != 1 {
		t.Errorf("pool on-demand: limits %v (want cpu 70 left), weight %d, taints %v", np.Limits, np.Weight, np.Taints)
	}
}

func TestWireRefusesWhatKarpenterbenchCannotModel(t *testing.T) {
	types := workloads.SyntheticInstanceTypes(2)
	other := *types[0]
	other.Offerings = other.Offerings[:1]
	for name, in := range map[string]scheduling.Input{
		"existing nodes": {NodePools: []*scheduling.NodePool{workloads.DefaultNodePool(types)}, Nodes: []*scheduling.ExistingNode{{Name: "n"}}},
		"no pools":       {},
		"same name, other offerings": {NodePools: []*scheduling.NodePool{workloads.DefaultNodePool(types),
			{Name: "b", InstanceTypes: []*scheduling.InstanceType{&other}}}},
		"minValues without requirement": {NodePools: []*scheduling.NodePool{{Name: "a", InstanceTypes: types, MinValues: map[string]int{"k": 2}}}},
	} {
		if err := WriteInput(&bytes.Buffer{}, in); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestRunKarpenterWithAFakeBinary(t *testing.T) {
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in := scheduling.Input{Pods: workloads.DiversePods(25), NodePools: []*scheduling.NodePool{workloads.DefaultNodePool(workloads.SyntheticInstanceTypes(3))}}

	t.Setenv(fakeEnv, "plan")
	plan, err := RunKarpenter(context.Background(), bin, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(plan, in); err != nil {
		t.Fatal(err)
	}
	if len(plan.NodeClaims) != 25 || plan.SolveSeconds != 0.5 || math.Abs(plan.InstancePrice()-25*in.NodePools[0].InstanceTypes[0].Offerings[0].Price) > 1e-9 {
		t.Fatalf("plan: %d claims, solve %.2f, price %.3f", len(plan.NodeClaims), plan.SolveSeconds, plan.InstancePrice())
	}
	plan.NodeClaims = plan.NodeClaims[1:]
	if err := Check(plan, in); err == nil {
		t.Error("Check accepted a plan that loses a pod")
	}

	t.Setenv(fakeEnv, "fail")
	if _, err := RunKarpenter(context.Background(), bin, in); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a failing binary gave %v, want its stderr", err)
	}

	t.Setenv(fakeEnv, "hang")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := RunKarpenter(ctx, bin, in); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("a cancelled run gave %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("cancelling took %s: the binary was not stopped by SIGTERM", d)
	}
}

// TestRealKarpenter runs Karpenter's scheduler (make karpenterbench) on a
// small diverse workload and checks its plan is a plan for the input.
func TestRealKarpenter(t *testing.T) {
	dir := os.Getenv("NODEWRIGHT_BIN_DIR")
	if dir == "" {
		t.Skip("set NODEWRIGHT_BIN_DIR to the directory holding karpenterbench (make karpenterbench)")
	}
	bin := filepath.Join(dir, "karpenterbench")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("%s is not built (make karpenterbench): %v", bin, err)
	}
	types := workloads.SyntheticInstanceTypes(40)
	pool := workloads.DefaultNodePool(types)
	pool.Requirements = []corev1.NodeSelectorRequirement{{Key: "nodewright.dev/capacity-type", Operator: corev1.NodeSelectorOpIn, Values: []string{"on-demand"}}}
	in := scheduling.Input{Pods: workloads.DiversePods(300), NodePools: []*scheduling.NodePool{pool}}
	plan, err := RunKarpenter(context.Background(), bin, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(plan, in); err != nil {
		t.Fatal(err)
	}
	if len(plan.Unschedulable) > 0 {
		t.Fatalf("Karpenter left %d pods out, first %+v", len(plan.Unschedulable), plan.Unschedulable[0])
	}
	byName := map[string]*scheduling.InstanceType{}
	for _, it := range types {
		byName[it.Name] = it
	}
	requests := map[string]corev1.ResourceList{}
	for _, p := range in.Pods {
		requests[PodID(p)] = p.Spec.Containers[0].Resources.Requests
	}
	for i, nc := range plan.NodeClaims {
		cpu, mem := resource.Quantity{}, resource.Quantity{}
		for _, id := range nc.Pods {
			cpu.Add(requests[id][corev1.ResourceCPU])
			mem.Add(requests[id][corev1.ResourceMemory])
		}
		for _, name := range nc.InstanceTypes {
			it := byName[name]
			if cpu.Cmp(*it.Allocatable.Cpu()) > 0 || mem.Cmp(*it.Allocatable.Memory()) > 0 {
				t.Errorf("claim %d: %s cannot hold its pods (cpu %s, memory %s)", i, name, cpu.String(), mem.String())
			}
		}
		ct := ""
		for _, r := range nc.Requirements {
			if r.Key == "nodewright.dev/capacity-type" {
				ct = string(r.Operator) + strings.Join(r.Values, ",")
			}
		}
		if ct != "Inon-demand" {
			t.Errorf("claim %d: capacity type %q, want In on-demand", i, ct)
		}
	}
	t.Logf("Karpenter: %d pods on %d nodes, $%.2f/h, solve %.3fs", len(in.Pods), len(plan.NodeClaims), plan.InstancePrice(), plan.SolveSeconds)
}
