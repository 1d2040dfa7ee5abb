package termination_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/fake"
	"github.com/nodewright/nodewright/controller/controllers/node/termination"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
	"github.com/nodewright/nodewright/controller/utils/index"
	"github.com/nodewright/nodewright/test/kubetest"
)

var env *test.Env

func TestMain(m *testing.M) { os.Exit(test.Main(m, &env)) }

type fixture struct {
	t        *testing.T
	ctx      context.Context
	cloud    *fake.CloudProvider
	clock    *clocktesting.FakeClock
	ctrl     *termination.Controller
	recorder *events.FakeRecorder
	ns       string
	node     string
	// instance is the fake's NodeClaim for the node's instance.
	instance *v1.NodeClaim
}

// newFixture makes a namespace, a pool (with the grace period, if any) and
// a registered kwok Node of that pool whose instance the fake runs.
func newFixture(t *testing.T, grace *time.Duration) *fixture {
	f := &fixture{t: t, ctx: context.Background(), cloud: fake.New(test.InstanceTypes()),
		clock: clocktesting.NewFakeClock(time.Now())}
	f.recorder = events.NewFakeRecorder(100)
	f.ctrl = termination.NewController(cachedClient(t), f.cloud, f.clock, f.recorder)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "drain-"}}
	f.must(env.Client.Create(f.ctx, ns))
	f.ns = ns.Name
	np := test.NodePool(test.NodePoolOptions{Name: ""})
	np.GenerateName = "drain-"
	if grace != nil {
		np.Spec.Template.Spec.TerminationGracePeriod = &metav1.Duration{Duration: *grace}
	}
	f.must(env.Client.Create(f.ctx, np))

	nc := test.NodeClaim(test.NodeClaimOptions{NodePool: np.Name})
	nc.UID = types.UID("uid-" + np.Name)
	launched, err := f.cloud.Create(f.ctx, nc)
	f.must(err)
	f.instance = launched
	node := test.NodeFor(launched, np.Name+"-node")
	node.Spec.Taints = nil
	node.Labels[v1.NodePoolLabelKey] = np.Name
	node.Labels[v1.NodeRegisteredLabelKey] = "true"
	node.Finalizers = []string{v1.TerminationFinalizer}
	f.must(env.Client.Create(f.ctx, node))
	f.node = node.Name
	t.Cleanup(func() {
		_ = kubetest.Purge(f.ctx, env.Client, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: f.node}})
		_ = env.Client.Delete(f.ctx, ns)
	})
	return f
}

var (
	cachedOnce sync.Once
	cached     client.Client
	cachedErr  error
)

// cachedClient reads VolumeAttachments through an informer cache with the
// operator's indexes, as the manager's client does (the API server has no
// spec.nodeName selector for them); everything else it reads straight
// from the API server, like env.Client. The cache lives as long as the
// test binary.
func cachedClient(t *testing.T) client.Client {
	t.Helper()
	cachedOnce.Do(func() {
		ctx := context.Background()
		c, err := cache.New(env.RESTConfig, cache.Options{Scheme: test.Scheme()})
		if err != nil {
			cachedErr = err
			return
		}
		if cachedErr = index.RegisterWith(ctx, c); cachedErr != nil {
			return
		}
		go func() { _ = c.Start(ctx) }()
		if !c.WaitForCacheSync(ctx) {
			cachedErr = fmt.Errorf("cache did not sync")
			return
		}
		cached, cachedErr = client.New(env.RESTConfig, client.Options{Scheme: test.Scheme(), Cache: &client.CacheOptions{
			Reader: c, DisableFor: []client.Object{&corev1.Pod{}, &corev1.Node{}, &v1.NodeClaim{}, &v1.NodePool{},
				&corev1.PersistentVolumeClaim{}}}})
	})
	if cachedErr != nil {
		t.Fatal(cachedErr)
	}
	return cached
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) getNode() (*corev1.Node, bool) {
	n := &corev1.Node{}
	if err := env.Client.Get(f.ctx, client.ObjectKey{Name: f.node}, n); err != nil {
		return nil, false
	}
	return n, true
}

// reconcile runs one pass on the stored Node.
func (f *fixture) reconcile() time.Duration {
	f.t.Helper()
	n, ok := f.getNode()
	if !ok {
		f.t.Fatal("node is gone")
	}
	res, err := f.ctrl.Reconcile(f.ctx, n)
	if err != nil {
		f.t.Fatalf("reconcile: %v", err)
	}
	return res.RequeueAfter
}

// reconcileUntilGone reconciles the Node until its finalizer is released.
func (f *fixture) reconcileUntilGone(what string) {
	f.t.Helper()
	expectations.Eventually(f.t, 30*time.Second, what, func() bool {
		if _, ok := f.getNode(); !ok {
			return true
		}
		f.reconcile()
		return false
	})
}

func podSpec(node string) corev1.PodSpec {
	return corev1.PodSpec{
		NodeSelector:                  map[string]string{corev1.LabelHostname: node},
		AutomountServiceAccountToken:  ptr.To(false),
		TerminationGracePeriodSeconds: ptr.To[int64](0),
		Containers: []corev1.Container{{Name: "c", Image: "example.com/app:1", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}}}},
	}
}

func (f *fixture) deployment(name string, replicas int32, annotations map[string]string, mutate ...func(*corev1.PodSpec)) {
	labels := map[string]string{"app": name}
	spec := podSpec(f.node)
	for _, m := range mutate {
		m(&spec)
	}
	f.must(env.Client.Create(f.ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations}, Spec: spec},
		},
	}))
}

func (f *fixture) daemonSet(name string) {
	labels := map[string]string{"app": name}
	f.must(env.Client.Create(f.ctx, &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec(f.node)},
		},
	}))
}

// criticalPod is bound straight to the node. Its namespace's default
// service account may not exist yet, so creation is retried.
func (f *fixture) criticalPod(name string) {
	spec := podSpec(f.node)
	spec.NodeName = f.node
	spec.PriorityClassName = "system-cluster-critical"
	expectations.Eventually(f.t, 30*time.Second, "creating pod "+name, func() bool {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns}, Spec: *spec.DeepCopy()}
		return env.Client.Create(f.ctx, pod) == nil
	})
}

func (f *fixture) pdb(name, app string, minAvailable int) *policyv1.PodDisruptionBudget {
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: ptr.To(intstr.FromInt32(int32(minAvailable))),
			Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
		},
	}
	f.must(env.Client.Create(f.ctx, pdb))
	return pdb
}

// pods are the live pods bound to the node, by the app label (or name).
func (f *fixture) pods() map[string][]corev1.Pod {
	var list corev1.PodList
	f.must(env.Client.List(f.ctx, &list, client.MatchingFields{"spec.nodeName": f.node}))
	out := map[string][]corev1.Pod{}
	for _, p := range list.Items {
		key := p.Labels["app"]
		if key == "" {
			key = p.Name
		}
		out[key] = append(out[key], p)
	}
	return out
}

// awaitRunning waits until want[app] pods of each app run on the node.
func (f *fixture) awaitRunning(want map[string]int) {
	f.t.Helper()
	expectations.Eventually(f.t, 60*time.Second, fmt.Sprintf("pods %v running", want), func() bool {
		pods := f.pods()
		for app, n := range want {
			running := 0
			for _, p := range pods[app] {
				if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp.IsZero() {
					running++
				}
			}
			if running != n {
				return false
			}
		}
		return true
	})
}

func (f *fixture) deleteNode() {
	n, _ := f.getNode()
	f.must(env.Client.Delete(f.ctx, n))
}

func deleting(pods []corev1.Pod) bool {
	for _, p := range pods {
		if p.DeletionTimestamp.IsZero() {
			return false
		}
	}
	return true
}
