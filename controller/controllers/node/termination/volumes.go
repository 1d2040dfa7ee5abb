package termination

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewright/nodewright/controller/utils/index"
)

// VolumeRetry is how soon a drained Node whose volumes are still attached
// is looked at again.
const VolumeRetry = 2 * time.Second

// attachedVolumes names the node's VolumeAttachments that must be gone
// before its instance is terminated: terminating an instance under an
// attached EBS volume leaves the attachment behind, and the next pod's
// attach of that volume fails until EC2 notices. Volumes of pods the drain
// leaves on the node (mirror pods, daemonsets and others tolerating the
// disrupted taint, pods stuck terminating, finished pods) are not waited
// for, as Karpenter's filterVolumeAttachments does not: nothing will
// detach them before the node goes. The attachments are read through the
// cache's index.VolumeAttachmentNodeName.
func (c *Controller) attachedVolumes(ctx context.Context, node *corev1.Node) ([]string, error) {
	var vas storagev1.VolumeAttachmentList
	if err := c.kube.List(ctx, &vas, client.MatchingFields{index.VolumeAttachmentNodeName: node.Name}); err != nil {
		return nil, fmt.Errorf("listing volume attachments of node %s: %w", node.Name, err)
	}
	var out []string
	var kept sets.Set[string]
	for i := range vas.Items {
		va := &vas.Items[i]
		if kept == nil {
			var err error
			if kept, err = c.volumesOfUndrainedPods(ctx, node); err != nil {
				return nil, err
			}
		}
		if pv := va.Spec.Source.PersistentVolumeName; pv != nil && kept.Has(*pv) {
			continue
		}
		out = append(out, va.Name)
	}
	return out, nil
}

// volumesOfUndrainedPods are the persistent volumes claimed by the node's
// pods that the drain does not remove.
func (c *Controller) volumesOfUndrainedPods(ctx context.Context, node *corev1.Node) (sets.Set[string], error) {
	kept := sets.New[string]()
	var pods corev1.PodList
	if err := c.kube.List(ctx, &pods, client.MatchingFields{podNodeNameField: node.Name}); err != nil {
		return nil, fmt.Errorf("listing pods on node %s: %w", node.Name, err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if drainable(p, c.clock.Now()) {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim == nil {
				continue
			}
			var pvc corev1.PersistentVolumeClaim
			err := c.kube.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: v.PersistentVolumeClaim.ClaimName}, &pvc)
			if client.IgnoreNotFound(err) != nil {
				return nil, fmt.Errorf("getting claim %s/%s: %w", p.Namespace, v.PersistentVolumeClaim.ClaimName, err)
			}
			if pvc.Spec.VolumeName != "" {
				kept.Insert(pvc.Spec.VolumeName)
			}
		}
	}
	return kept, nil
}
