package termination

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// drain evicts the first group that still has pods, or deletes every pod
// once the grace period is over, and returns how many pods are left.
func (c *Controller) drain(ctx context.Context, node *corev1.Node) (int, error) {
	var pods corev1.PodList
	if err := c.kube.List(ctx, &pods, client.MatchingFields{podNodeNameField: node.Name}); err != nil {
		return 0, fmt.Errorf("listing pods on node %s: %w", node.Name, err)
	}
	var byGroup [groups][]*corev1.Pod
	remaining := 0
	for i := range pods.Items {
		p := &pods.Items[i]
		if !drainable(p) {
			continue
		}
		remaining++
		byGroup[group(p)] = append(byGroup[group(p)], p)
	}
	if remaining == 0 {
		return 0, nil
	}

	// Under a terminationGracePeriod a pod is deleted, budget or not, once
	// its own grace period would no longer end before the node's deadline.
	if grace, ok := c.gracePeriod(ctx, node); ok {
		left := node.DeletionTimestamp.Add(grace).Sub(c.clock.Now())
		for _, g := range byGroup {
			for _, p := range g {
				if !p.DeletionTimestamp.IsZero() || left > podGrace(p) {
					continue
				}
				if err := c.kube.Delete(ctx, p); client.IgnoreNotFound(err) != nil {
					return remaining, fmt.Errorf("deleting pod %s/%s before the node's grace period ends: %w", p.Namespace, p.Name, err)
				}
				log.FromContext(ctx).Info("deleted pod to meet termination grace period", "pod", client.ObjectKeyFromObject(p), "gracePeriod", grace)
				p.DeletionTimestamp = &metav1.Time{Time: c.clock.Now()}
			}
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

// drainable is every pod the node must lose before it goes: not a static
// pod's mirror (the kubelet owns those and they die with the node), and not
// already finished.
func drainable(p *corev1.Pod) bool {
	if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return false
	}
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
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

// gracePeriod is the terminationGracePeriod of the Node's NodePool (or of
// its NodeClaim, which copies it at creation).
func (c *Controller) gracePeriod(ctx context.Context, node *corev1.Node) (time.Duration, bool) {
	var np v1.NodePool
	if name := node.Labels[v1.NodePoolLabelKey]; name != "" {
		if err := c.kube.Get(ctx, client.ObjectKey{Name: name}, &np); err == nil && np.Spec.Template.Spec.TerminationGracePeriod != nil {
			return np.Spec.Template.Spec.TerminationGracePeriod.Duration, true
		}
	}
	var claims v1.NodeClaimList
	if err := c.kube.List(ctx, &claims); err != nil {
		return 0, false
	}
	for i := range claims.Items {
		nc := &claims.Items[i]
		if nc.Status.ProviderID == node.Spec.ProviderID && node.Spec.ProviderID != "" && nc.Spec.TerminationGracePeriod != nil {
			return nc.Spec.TerminationGracePeriod.Duration, true
		}
	}
	return 0, false
}
