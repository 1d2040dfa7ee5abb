package termination

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// Drain groups, in eviction order: workloads leave before the daemonsets
// that serve them (logging, networking), and critical pods last of all.
const (
	groupWorkload = iota
	groupDaemon
	groupCritical
	groupCriticalDaemon
	groups
)

// drain evicts the first group that still has pods and, under a deadline,
// deletes the pods that would otherwise not stop before it; it returns
// how many pods are left.
func (c *Controller) drain(ctx context.Context, node *corev1.Node, deadline time.Time, bounded bool) (int, error) {
	left, err := c.drainablePods(ctx, node)
	if err != nil {
		return 0, err
	}
	var byGroup [groups][]*corev1.Pod
	for _, p := range left {
		byGroup[group(p)] = append(byGroup[group(p)], p)
	}
	remaining := len(left)
	if remaining == 0 {
		return 0, nil
	}

	// Under a terminationGracePeriod a pod is deleted, budget or not, once
	// its own grace period would no longer end before the node's deadline.
	if bounded {
		until := deadline.Sub(c.clock.Now())
		for _, p := range left {
			if !p.DeletionTimestamp.IsZero() || until > podGrace(p) {
				continue
			}
			if err := c.kube.Delete(ctx, p); client.IgnoreNotFound(err) != nil {
				return remaining, fmt.Errorf("deleting pod %s/%s before the node's grace period ends: %w", p.Namespace, p.Name, err)
			}
			log.FromContext(ctx).Info("deleted pod to meet termination grace period", "pod", client.ObjectKeyFromObject(p), "deadline", deadline)
			p.DeletionTimestamp = &metav1.Time{Time: c.clock.Now()}
		}
	}

	for _, g := range byGroup {
		if len(g) == 0 {
			continue
		}
		for _, p := range g {
			if p.DeletionTimestamp.IsZero() {
				if err := c.evict(ctx, node, p); err != nil {
					return remaining, err
				}
			}
		}
		// Later groups wait until this one is gone, not just asked to go.
		break
	}
	return remaining, nil
}

// evict asks the apiserver to evict p; a refusal under a disruption budget
// (429) is left for the next pass.
func (c *Controller) evict(ctx context.Context, node *corev1.Node, p *corev1.Pod) error {
	eviction := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}}
	err := c.kube.SubResource("eviction").Create(ctx, p, eviction)
	switch {
	case err == nil:
		log.FromContext(ctx).V(1).Info("evicted pod", "pod", client.ObjectKeyFromObject(p))
		return nil
	case apierrors.IsNotFound(err):
		return nil
	case apierrors.IsTooManyRequests(err):
		log.FromContext(ctx).Info("eviction blocked by disruption budget", "pod", client.ObjectKeyFromObject(p))
		c.recorder.Eventf(node, p, corev1.EventTypeWarning, "EvictionBlocked", "Drain",
			"evicting pod %s/%s: %v", p.Namespace, p.Name, err)
		return nil
	default:
		return fmt.Errorf("evicting pod %s/%s from node %s: %w", p.Namespace, p.Name, node.Name, err)
	}
}

// drainablePods are the node's pods the drain waits for.
func (c *Controller) drainablePods(ctx context.Context, node *corev1.Node) ([]*corev1.Pod, error) {
	var pods corev1.PodList
	if err := c.kube.List(ctx, &pods, client.MatchingFields{podNodeNameField: node.Name}); err != nil {
		return nil, fmt.Errorf("listing pods on node %s: %w", node.Name, err)
	}
	var out []*corev1.Pod
	for i := range pods.Items {
		if p := &pods.Items[i]; drainable(p, c.clock.Now()) {
			out = append(out, p)
		}
	}
	return out, nil
}

// stuckAfter is how long past the end of its own grace period a
// terminating pod is waited for; after that its kubelet is taken to be
// gone and the pod no longer holds the node (Karpenter's
// IsStuckTerminating uses the same minute).
const stuckAfter = time.Minute

// drainable is every pod the node must lose before it goes, as Karpenter's
// pod.IsDrainable and IsWaitingEviction: not a static pod's mirror (the
// kubelet owns those and they die with the node), not one that tolerates
// the disrupted taint (a daemonset tolerating everything would only come
// back), not stuck terminating, and not already finished.
func drainable(p *corev1.Pod, now time.Time) bool {
	if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return false
	}
	if toleratesDisrupted(p) {
		return false
	}
	// A terminating pod's deletionTimestamp is when its grace period ends.
	if !p.DeletionTimestamp.IsZero() && now.Sub(p.DeletionTimestamp.Time) > stuckAfter {
		return false
	}
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

func toleratesDisrupted(p *corev1.Pod) bool {
	for i := range p.Spec.Tolerations {
		if p.Spec.Tolerations[i].ToleratesTaint(klog.Background(), &v1.DisruptedNoScheduleTaint, false) {
			return true
		}
	}
	return false
}

// podGrace is how long the pod may take to stop once deleted.
func podGrace(p *corev1.Pod) time.Duration {
	if p.Spec.TerminationGracePeriodSeconds != nil {
		return time.Duration(*p.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return corev1.DefaultTerminationGracePeriodSeconds * time.Second
}

func group(p *corev1.Pod) int {
	daemon := false
	if ref := metav1.GetControllerOf(p); ref != nil && ref.Kind == "DaemonSet" {
		daemon = true
	}
	critical := p.Spec.PriorityClassName == "system-cluster-critical" || p.Spec.PriorityClassName == "system-node-critical"
	switch {
	case critical && daemon:
		return groupCriticalDaemon
	case critical:
		return groupCritical
	case daemon:
		return groupDaemon
	}
	return groupWorkload
}

// deadline is when the node's terminationGracePeriod runs out: the
// NodeClaim's (copied from its NodePool at creation; else the pool's),
// counted from when the claim began deleting, or the Node did if that was
// first or no claim is deleting (Karpenter counts from the claim's
// deletion, stamped as its termination timestamp). bounded is false
// without one.
func (c *Controller) deadline(ctx context.Context, node *corev1.Node) (time.Time, bool, error) {
	start := node.DeletionTimestamp.Time
	var grace *metav1.Duration
	if node.Spec.ProviderID != "" {
		var claims v1.NodeClaimList
		if err := c.kube.List(ctx, &claims); err != nil {
			return time.Time{}, false, fmt.Errorf("listing nodeclaims for node %s: %w", node.Name, err)
		}
		for i := range claims.Items {
			nc := &claims.Items[i]
			if nc.Status.ProviderID != node.Spec.ProviderID {
				continue
			}
			grace = nc.Spec.TerminationGracePeriod
			if !nc.DeletionTimestamp.IsZero() && nc.DeletionTimestamp.Time.Before(start) {
				start = nc.DeletionTimestamp.Time
			}
			break
		}
	}
	if grace == nil {
		if name := node.Labels[v1.NodePoolLabelKey]; name != "" {
			var np v1.NodePool
			err := c.kube.Get(ctx, client.ObjectKey{Name: name}, &np)
			if client.IgnoreNotFound(err) != nil {
				return time.Time{}, false, fmt.Errorf("getting nodepool %s of node %s: %w", name, node.Name, err)
			}
			grace = np.Spec.Template.Spec.TerminationGracePeriod
		}
	}
	if grace == nil {
		return time.Time{}, false, nil
	}
	return start.Add(grace.Duration), true, nil
}
