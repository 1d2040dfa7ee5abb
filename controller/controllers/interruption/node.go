package interruption

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// nodeOf is nc's Node, or nil when it has none (not registered yet, or
// already gone).
func nodeOf(ctx context.Context, kube client.Client, nc *v1.NodeClaim) (*corev1.Node, error) {
	if nc.Status.NodeName == "" {
		return nil, nil
	}
	var node corev1.Node
	if err := kube.Get(ctx, client.ObjectKey{Name: nc.Status.NodeName}, &node); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("getting node %s: %w", nc.Status.NodeName, err)
	}
	return &node, nil
}

// taint adds the disrupted NoSchedule taint so nothing new lands on node.
func taint(ctx context.Context, kube client.Client, node *corev1.Node) error {
	for _, t := range node.Spec.Taints {
		if t.MatchTaint(&v1.DisruptedNoScheduleTaint) {
			return nil
		}
	}
	patch := client.MergeFrom(node.DeepCopy())
	node.Spec.Taints = append(node.Spec.Taints, v1.DisruptedNoScheduleTaint)
	if err := kube.Patch(ctx, node, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("tainting node %s: %w", node.Name, err)
	}
	return nil
}

func cordon(ctx context.Context, kube client.Client, node *corev1.Node) error {
	if node.Spec.Unschedulable {
		return nil
	}
	patch := client.MergeFrom(node.DeepCopy())
	node.Spec.Unschedulable = true
	if err := kube.Patch(ctx, node, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("cordoning node %s: %w", node.Name, err)
	}
	return nil
}

// taintAndDelete taints the node (if any) and deletes the claim.
func taintAndDelete(ctx context.Context, kube client.Client, node *corev1.Node, nc *v1.NodeClaim) error {
	if node != nil {
		if err := taint(ctx, kube, node); err != nil {
			return err
		}
	}
	if err := kube.Delete(ctx, nc); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting nodeclaim %s: %w", nc.Name, err)
	}
	return nil
}

// recordEvent records on the claim and, when there is one, its node, where
// `kubectl describe node` shows why the node is going.
func recordEvent(recorder events.EventRecorder, nc *v1.NodeClaim, node *corev1.Node, eventType, reason, message string) {
	recorder.Eventf(nc, nil, eventType, reason, "Interrupt", "%s", message)
	if node != nil {
		recorder.Eventf(node, nc, eventType, reason, "Interrupt", "%s", message)
	}
}
