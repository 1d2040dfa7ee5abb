package lifecycle

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/utils/resources"
)

// initialize marks the claim Initialized and Ready once its Node can take
// the pods it was launched for. Until then the Node's own changes (a
// watch) bring the claim back here.
func (c *Controller) initialize(ctx context.Context, nc *v1.NodeClaim, node *corev1.Node) error {
	if reason, msg := notInitialized(nc, node); reason != "" {
		stored := nc.DeepCopy()
		c.setCondition(nc, v1.ConditionTypeInitialized, metav1.ConditionFalse, reason, msg)
		c.setCondition(nc, v1.ConditionTypeReady, metav1.ConditionFalse, reason, msg)
		return c.patchStatus(ctx, nc, stored)
	}
	if node.Labels[v1.NodeInitializedLabelKey] != "true" {
		stored := node.DeepCopy()
		node.Labels[v1.NodeInitializedLabelKey] = "true"
		if err := c.kube.Patch(ctx, node, client.MergeFrom(stored)); err != nil {
			return fmt.Errorf("labelling node %s initialized: %w", node.Name, err)
		}
	}
	stored := nc.DeepCopy()
	c.setCondition(nc, v1.ConditionTypeInitialized, metav1.ConditionTrue, "Initialized", "")
	c.setCondition(nc, v1.ConditionTypeReady, metav1.ConditionTrue, "Ready", "")
	// A stale cache can bring the claim here twice; the optimistic lock lets
	// only one of them record (and log) the transition. The loser's newer
	// version is on its way through the watch.
	if err := c.kube.Status().Patch(ctx, nc, client.MergeFromWithOptions(stored, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsConflict(err) {
			return nil
		}
		return fmt.Errorf("patching status of nodeclaim %s: %w", nc.Name, err)
	}
	observeStep(nc, StepInitialization, conditionSince(stored, v1.ConditionTypeRegistered), c.clock.Now())
	log.FromContext(ctx).Info("initialized", "node", node.Name)
	return nil
}

// notInitialized says why the Node can't take its pods yet, or "" when it can.
func notInitialized(nc *v1.NodeClaim, node *corev1.Node) (reason, message string) {
	ready := false
	for _, cond := range node.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			ready = cond.Status == corev1.ConditionTrue
		}
	}
	if !ready {
		return "NodeNotReady", fmt.Sprintf("node %s is not Ready", node.Name)
	}
	// Ready can turn True before kube-controller-manager takes its
	// not-ready taint off: kube-scheduler places nothing there until it has.
	for _, t := range node.Spec.Taints {
		if v1.IsEphemeralTaint(t) {
			return "EphemeralTaintsPresent", fmt.Sprintf("node %s still has taint %s:%s", node.Name, t.Key, t.Effect)
		}
	}
	for _, t := range nc.Spec.StartupTaints {
		if hasTaint(node.Spec.Taints, t) {
			return "StartupTaintsPresent", fmt.Sprintf("node %s still has taint %s:%s", node.Name, t.Key, t.Effect)
		}
	}
	for name := range nc.Spec.Resources.Requests {
		if !extended(name) {
			continue
		}
		if q, ok := node.Status.Allocatable[name]; !ok || q.IsZero() {
			return "ResourcesNotRegistered", fmt.Sprintf("node %s has no allocatable %s yet", node.Name, name)
		}
	}
	return "", ""
}

// extended reports whether the kubelet registers the resource on its own
// schedule (device plugins), rather than at startup like cpu and memory.
// Attach limits are never in a node's allocatable: CSINode holds them.
func extended(name corev1.ResourceName) bool {
	switch name {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage, corev1.ResourcePods:
		return false
	}
	if resources.IsAttachLimit(name) {
		return false
	}
	return !strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}
