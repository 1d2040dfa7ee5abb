package disruption

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/fake"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/test/kubetest"
	"github.com/nodewright/nodewright/test/localcloud"
)

var env *test.Env

func TestMain(m *testing.M) {
	log.SetLogger(logr.Discard())
	os.Exit(test.Main(m, &env))
}

const delay = 2 * time.Second

type fixture struct {
	t    *testing.T
	ctx  context.Context
	clk  *clocktesting.FakeClock
	rec  *events.FakeRecorder
	c    *Controller
	pool *v1.NodePool
	// evaluations counts calls of the evaluator.
	evaluations int
	// kwok: nodes are run by kwok (Ready, pods run), not inert.
	kwok bool
}

// newFixture makes a pool named like the test and a controller whose
// engine is eval (nil: the real one), seeing only the pool's nodes.
func newFixture(t *testing.T, np *v1.NodePool, eval Evaluator) *fixture {
	f := &fixture{t: t, ctx: context.Background(), clk: clocktesting.NewFakeClock(time.Now().Truncate(time.Second)),
		rec: events.NewFakeRecorder(100)}
	if np == nil {
		np = test.NodePool(test.NodePoolOptions{Name: strings.ToLower(strings.ReplaceAll(t.Name(), "_", "-"))})
	}
	f.must(env.Client.Create(f.ctx, np))
	f.pool = np
	opts := Options{ValidationDelay: delay}
	if eval != nil {
		opts.Evaluator = func(s *disruptionplan.Snapshot) (*disruptionplan.Result, error) {
			f.evaluations++
			return eval(s)
		}
	}
	f.c = NewController(env.Client, fake.New(test.InstanceTypes()), f.clk, f.rec, opts)
	if eval != nil {
		f.c.newSnapshot = joinOnly
	}
	t.Cleanup(f.cleanup)
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// joinOnly stands in for disruptionplan.NewSnapshot in tests of the loop with
// a fake engine: each Node joined with its NodeClaim, nothing priced.
func joinOnly(o disruptionplan.Objects) (*disruptionplan.Snapshot, error) {
	s := &disruptionplan.Snapshot{Now: o.Now}
	claims := map[string]*v1.NodeClaim{}
	for _, nc := range o.NodeClaims {
		claims[nc.Status.ProviderID] = nc
	}
	for _, node := range o.Nodes {
		n := &disruptionplan.Node{ExistingNode: scheduling.ExistingNode{Name: node.Name, Labels: node.Labels, NodePool: node.Labels[v1.NodePoolLabelKey]}}
		if nc := claims[node.Spec.ProviderID]; nc != nil {
			n.NodeClaim = nc.Name
			n.Initialized = nc.IsTrue(v1.ConditionTypeInitialized)
			n.Deleting = !nc.DeletionTimestamp.IsZero() || hasTaint(node, v1.DisruptedNoScheduleTaint)
		}
		s.Nodes = append(s.Nodes, n)
	}
	return s, nil
}

// node makes an Initialized NodeClaim of the pool and its Node, both named
// name, the claim holding the termination finalizer so a deletion shows.
func (f *fixture) node(name string) {
	f.t.Helper()
	nc := &v1.NodeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{v1.NodePoolLabelKey: f.pool.Name},
		Finalizers: []string{v1.TerminationFinalizer}},
		Spec: v1.NodeClaimSpec{NodeClassRef: &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"}}}
	f.must(env.Client.Create(f.ctx, nc))
	f.register(nc)
}

// register plays lifecycle for a claim: launched, registered and
// initialized, with a Node of the same name.
func (f *fixture) register(nc *v1.NodeClaim) {
	f.t.Helper()
	name := nc.Name
	f.must(kubetest.UpdateStatus(f.ctx, env.Client, nc, func(nc *v1.NodeClaim) {
		nc.Status.ProviderID = "fake:///us-east-1a/" + name
		nc.Status.NodeName = name
		nc.Status.Capacity = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")}
		nc.Status.Allocatable = nc.Status.Capacity.DeepCopy()
		nc.SetCondition(v1.ConditionTypeLaunched, metav1.ConditionTrue, "", "")
		nc.SetCondition(v1.ConditionTypeRegistered, metav1.ConditionTrue, "", "")
		nc.SetCondition(v1.ConditionTypeInitialized, metav1.ConditionTrue, "", "")
	}))
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		v1.NodePoolLabelKey: f.pool.Name, corev1.LabelHostname: name, corev1.LabelInstanceTypeStable: "m5.large",
		corev1.LabelTopologyZone: "us-east-1a", v1.CapacityTypeLabelKey: v1.CapacityTypeOnDemand,
		v1.NodeRegisteredLabelKey: "true", v1.NodeInitializedLabelKey: "true"}},
		Spec:   corev1.NodeSpec{ProviderID: nc.Status.ProviderID},
		Status: corev1.NodeStatus{Capacity: nc.Status.Capacity.DeepCopy(), Allocatable: nc.Status.Allocatable.DeepCopy()}}
	if f.kwok {
		node.Annotations = map[string]string{localcloud.KwokNodeAnnotation: "fake"}
	}
	f.must(env.Client.Create(f.ctx, node))
	f.updateNode(name, func(n *corev1.Node) error {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
		return env.Client.Status().Update(f.ctx, n)
	})
}

// updateNode applies update to the stored Node, retrying conflicts with
// kube-controller-manager's node controllers.
func (f *fixture) updateNode(name string, update func(*corev1.Node) error) {
	f.t.Helper()
	f.must(retry.RetryOnConflict(kubetest.Backoff, func() error {
		n := &corev1.Node{}
		if err := env.Client.Get(f.ctx, client.ObjectKey{Name: name}, n); err != nil {
			return err
		}
		return update(n)
	}))
}

// pass runs one pass and fails the test on error.
func (f *fixture) pass() Report {
	f.t.Helper()
	r, err := f.c.Pass(f.ctx)
	if err != nil {
		f.t.Fatalf("pass: %v", err)
	}
	return r
}

// claims are the pool's NodeClaims by name.
func (f *fixture) claims() map[string]*v1.NodeClaim {
	f.t.Helper()
	var list v1.NodeClaimList
	f.must(env.Client.List(f.ctx, &list, client.MatchingLabels{v1.NodePoolLabelKey: f.pool.Name}))
	out := map[string]*v1.NodeClaim{}
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out
}

func (f *fixture) getNode(name string) *corev1.Node {
	f.t.Helper()
	n := &corev1.Node{}
	f.must(env.Client.Get(f.ctx, client.ObjectKey{Name: name}, n))
	return n
}

// replacements are the pool's claims that replace others.
func (f *fixture) replacements() []*v1.NodeClaim {
	var out []*v1.NodeClaim
	for _, nc := range f.claims() {
		if nc.Annotations[ReplacesAnnotationKey] != "" {
			out = append(out, nc)
		}
	}
	return out
}

func (f *fixture) initialize(nc *v1.NodeClaim) {
	f.t.Helper()
	f.must(kubetest.UpdateStatus(f.ctx, env.Client, nc, func(nc *v1.NodeClaim) {
		nc.SetCondition(v1.ConditionTypeInitialized, metav1.ConditionTrue, "", "")
	}))
}

// events drains the recorder.
func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

// cleanup removes the pool's claims and nodes, finalizers and all.
func (f *fixture) cleanup() {
	for _, nc := range f.claims() {
		_ = kubetest.Purge(f.ctx, env.Client, nc)
	}
	var nodes corev1.NodeList
	_ = env.Client.List(f.ctx, &nodes, client.MatchingLabels{v1.NodePoolLabelKey: f.pool.Name})
	for i := range nodes.Items {
		_ = env.Client.Delete(f.ctx, &nodes.Items[i])
	}
	_ = env.Client.Delete(f.ctx, f.pool)
}

// plan is a one-m5.large replacement of the pool.
func (f *fixture) plan() *scheduling.NodeClaimPlan {
	it := test.InstanceTypes()[0]
	reqs, err := scheduling.NewRequirements(corev1.NodeSelectorRequirement{Key: corev1.LabelInstanceTypeStable, Operator: corev1.NodeSelectorOpIn, Values: []string{it.Name}})
	f.must(err)
	return &scheduling.NodeClaimPlan{NodePool: f.pool.Name, Requirements: reqs,
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
		Options:  []scheduling.Option{{InstanceType: it, Offering: it.Offerings[0]}}, InstanceTypes: 1}
}

// candidates are the snapshot's nodes of the pool with the given claim
// names that are not Deleting; nil unless all are there.
func (f *fixture) candidates(s *disruptionplan.Snapshot, names ...string) []*disruptionplan.Node {
	var out []*disruptionplan.Node
	for _, want := range names {
		for _, n := range s.Nodes {
			if n.NodeClaim == want && !n.Deleting && n.NodePool == f.pool.Name {
				out = append(out, n)
			}
		}
	}
	if len(out) != len(names) {
		return nil
	}
	return out
}
