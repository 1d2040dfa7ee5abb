package interruption

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/nodewright/nodewright/controller/utils/index"
)

// tracker measures warning-to-rescheduled cheaply: when an interrupted node
// is deleted it notes, per controller owner (ReplicaSet, StatefulSet...),
// how many of its pods were there; every couple of seconds it counts, from
// the cache, that owner's pods Running and Ready on other nodes, and
// observes the histogram once every owner is back to that count. Bare pods
// (no controller) never come back and are not waited for; a node not
// settled within giveUp is dropped unobserved.
type tracker struct {
	kube  client.Client
	clock clock.Clock

	mu      sync.Mutex
	pending []*tracked
}

type tracked struct {
	node   string
	since  time.Time
	owners map[types.UID]ownerCount
}

type ownerCount struct {
	namespace string
	want      int
}

const (
	trackEvery = 2 * time.Second
	giveUp     = 10 * time.Minute
)

func newTracker(kube client.Client, clk clock.Clock) *tracker {
	return &tracker{kube: kube, clock: clk}
}

// watch starts tracking node's pods, interrupted at since.
func (t *tracker) watch(ctx context.Context, node *corev1.Node, since time.Time) {
	if node == nil {
		return
	}
	var pods corev1.PodList
	if err := t.kube.List(ctx, &pods, client.MatchingFields{index.PodNodeName: node.Name}); err != nil {
		log.FromContext(ctx).V(1).Info("not tracking rescheduling", "node", node.Name, "error", err.Error())
		return
	}
	tr := &tracked{node: node.Name, since: since, owners: map[types.UID]ownerCount{}}
	for i := range pods.Items {
		p := &pods.Items[i]
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.Kind == "DaemonSet" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		oc := tr.owners[ref.UID]
		oc.namespace, oc.want = p.Namespace, oc.want+1
		tr.owners[ref.UID] = oc
	}
	if len(tr.owners) == 0 {
		return
	}
	// Settled means as many Running pods elsewhere as the owner has now.
	byNS := namespacePods{}
	for uid, oc := range tr.owners {
		all, err := byNS.list(ctx, t.kube, oc.namespace)
		if err != nil {
			return
		}
		n := 0
		for i := range all.Items {
			p := &all.Items[i]
			if ref := metav1.GetControllerOf(p); ref != nil && ref.UID == uid && p.DeletionTimestamp.IsZero() &&
				p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				n++
			}
		}
		tr.owners[uid] = ownerCount{namespace: oc.namespace, want: max(n, oc.want)}
	}
	t.mu.Lock()
	t.pending = append(t.pending, tr)
	t.mu.Unlock()
}

func (t *tracker) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.clock.After(trackEvery):
		}
		t.mu.Lock()
		pending := t.pending
		t.pending = nil
		t.mu.Unlock()
		var keep []*tracked
		byNS := namespacePods{}
		for _, tr := range pending {
			if t.settled(ctx, tr, byNS) {
				warningToRescheduled.Observe(t.clock.Since(tr.since).Seconds())
				log.FromContext(ctx).Info("interrupted pods running elsewhere", "node", tr.node,
					"after", t.clock.Since(tr.since).Round(100*time.Millisecond).String())
				continue
			}
			if t.clock.Since(tr.since) < giveUp {
				keep = append(keep, tr)
			}
		}
		t.mu.Lock()
		t.pending = append(t.pending, keep...)
		t.mu.Unlock()
	}
}

func (t *tracker) settled(ctx context.Context, tr *tracked, byNS namespacePods) bool {
	for uid, oc := range tr.owners {
		pods, err := byNS.list(ctx, t.kube, oc.namespace)
		if err != nil {
			return false
		}
		n := 0
		for i := range pods.Items {
			p := &pods.Items[i]
			ref := metav1.GetControllerOf(p)
			if ref != nil && ref.UID == uid && p.Spec.NodeName != tr.node && p.DeletionTimestamp.IsZero() &&
				p.Status.Phase == corev1.PodRunning && ready(p) {
				n++
			}
		}
		if n < oc.want {
			return false
		}
	}
	return true
}

// namespacePods lists each namespace's pods once, read-only and uncopied,
// for every tracked node of a round: a copy of all 10 000 pods of a
// namespace per owner and per tracked node starved the drain of 200
// interrupted nodes.
type namespacePods map[string]*corev1.PodList

func (m namespacePods) list(ctx context.Context, kube client.Client, namespace string) (*corev1.PodList, error) {
	if pods, ok := m[namespace]; ok {
		return pods, nil
	}
	pods := &corev1.PodList{}
	if err := kube.List(ctx, pods, client.InNamespace(namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	m[namespace] = pods
	return pods, nil
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
