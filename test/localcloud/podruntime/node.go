package podruntime

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// SystemTaint keeps every pod that does not tolerate it off the system
// node, as EKS add-on node groups do.
var SystemTaint = corev1.Taint{Key: "CriticalAddonsOnly", Value: "true", Effect: corev1.TaintEffectNoSchedule}

// NodeGroupLabel names the managed node group the system node belongs to.
const NodeGroupLabel = "eks.amazonaws.com/nodegroup"

const (
	heartbeatInterval = 10 * time.Second
	// leaseDuration matches kubelet's default; nodelifecycle's grace period
	// (40-50 s) is what actually decides NotReady.
	leaseDuration = 40
)

func (r *Runtime) nodeLabels() map[string]string {
	return map[string]string{
		corev1.LabelHostname:             r.cfg.NodeName,
		corev1.LabelOSStable:             "linux",
		corev1.LabelArchStable:           "amd64",
		corev1.LabelInstanceTypeStable:   "m5.xlarge",
		corev1.LabelTopologyZone:         "us-east-1a",
		corev1.LabelTopologyRegion:       "us-east-1",
		NodeGroupLabel:                   "system",
		"eks.amazonaws.com/capacityType": "ON_DEMAND",
	}
}

func nodeResources() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
}

// ensureNode creates the system node, or on an existing one restores the
// labels and taint it must carry, then reports it Ready.
func (r *Runtime) ensureNode(ctx context.Context) error {
	nodes := r.client.CoreV1().Nodes()
	labels := r.nodeLabels()
	node, err := nodes.Get(ctx, r.cfg.NodeName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		node = &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: r.cfg.NodeName, Labels: labels},
			Spec: corev1.NodeSpec{
				ProviderID: "aws:///us-east-1a/" + r.cfg.NodeName,
				Taints:     []corev1.Taint{SystemTaint},
			},
		}
		if node, err = nodes.Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("podruntime: creating node %s: %w", r.cfg.NodeName, err)
		}
		r.log.Info("created system node")
	case err != nil:
		return fmt.Errorf("podruntime: getting node %s: %w", r.cfg.NodeName, err)
	default:
		changed := false
		if node.Labels == nil {
			node.Labels = map[string]string{}
		}
		for k, v := range labels {
			if node.Labels[k] != v {
				node.Labels[k] = v
				changed = true
			}
		}
		if !hasTaint(node.Spec.Taints, SystemTaint) {
			node.Spec.Taints = append(node.Spec.Taints, SystemTaint)
			changed = true
		}
		if changed {
			if node, err = nodes.Update(ctx, node, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("podruntime: updating node %s: %w", r.cfg.NodeName, err)
			}
		}
	}
	if err := r.reportReady(ctx); err != nil {
		return err
	}
	return r.renewLease(ctx, node)
}

func hasTaint(taints []corev1.Taint, t corev1.Taint) bool {
	for _, x := range taints {
		if x.Key == t.Key && x.Value == t.Value && x.Effect == t.Effect {
			return true
		}
	}
	return false
}

// heartbeat keeps both signals nodelifecycle reads fresh: the Lease and the
// Ready condition's heartbeat time.
func (r *Runtime) heartbeat(ctx context.Context) {
	t := time.NewTicker(heartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := r.reportReady(ctx)
		if err == nil {
			var node *corev1.Node
			if node, err = r.client.CoreV1().Nodes().Get(ctx, r.cfg.NodeName, metav1.GetOptions{}); err == nil {
				err = r.renewLease(ctx, node)
			}
		}
		if err != nil && ctx.Err() == nil {
			r.log.Warn("node heartbeat", "err", err)
		}
	}
}

// reportReady writes the node's status on the node as it is now:
// kube-controller-manager writes the same node (taints, conditions) as it
// comes up, and a status written over a stale copy is refused with a
// conflict, which must not stop the node's heartbeat.
func (r *Runtime) reportReady(ctx context.Context) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := r.client.CoreV1().Nodes().Get(ctx, r.cfg.NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		_, err = r.client.CoreV1().Nodes().UpdateStatus(ctx, readyStatus(node), metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("podruntime: updating node status: %w", err)
	}
	return nil
}

// readyStatus is node with the status a healthy kubelet posts.
func readyStatus(node *corev1.Node) *corev1.Node {
	now := metav1.Now()
	node = node.DeepCopy()
	res := nodeResources()
	node.Status.Capacity = res
	node.Status.Allocatable = res.DeepCopy()
	node.Status.Phase = corev1.NodeRunning
	node.Status.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
		{Type: corev1.NodeHostName, Address: node.Name},
	}
	node.Status.NodeInfo = corev1.NodeSystemInfo{
		OperatingSystem: "linux", Architecture: "amd64", OSImage: "localcloud",
		KernelVersion: "localcloud", ContainerRuntimeVersion: "localcloud://1",
		KubeletVersion: "v1.33.0-localcloud", MachineID: node.Name, SystemUUID: node.Name,
	}
	want := []corev1.NodeCondition{
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "localcloud pod runtime is posting ready status"},
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID"},
	}
	for _, c := range want {
		c.LastHeartbeatTime = now
		c.LastTransitionTime = now
		found := false
		for i := range node.Status.Conditions {
			old := &node.Status.Conditions[i]
			if old.Type != c.Type {
				continue
			}
			found = true
			if old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
			*old = c
		}
		if !found {
			node.Status.Conditions = append(node.Status.Conditions, c)
		}
	}
	return node
}

func (r *Runtime) renewLease(ctx context.Context, node *corev1.Node) error {
	leases := r.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, r.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Name: r.cfg.NodeName, Namespace: corev1.NamespaceNodeLease,
				// Owned by the node, so deleting the node removes its lease.
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}},
			},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity: ptr.To(r.cfg.NodeName), LeaseDurationSeconds: ptr.To[int32](leaseDuration),
				RenewTime: &now,
			},
		}
		if _, err := leases.Create(ctx, lease, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("podruntime: creating node lease: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("podruntime: getting node lease: %w", err)
	}
	lease.Spec.HolderIdentity = ptr.To(r.cfg.NodeName)
	lease.Spec.LeaseDurationSeconds = ptr.To[int32](leaseDuration)
	lease.Spec.RenewTime = &now
	if _, err := leases.Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("podruntime: renewing node lease: %w", err)
	}
	return nil
}
