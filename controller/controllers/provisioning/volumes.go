package provisioning

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/volumetopology"
	"github.com/nodewright/nodewright/controller/utils/volumes"
)

// volumeRequirements puts into the snapshot the node requirements of the
// claims the pods to place use, and those of the pods on its nodes (which
// what-ifs may move), and returns the pods to place without those that
// must wait for their volumes: the snapshot lists those as Waiting, with
// why.
func (p *Provisioner) volumeRequirements(ctx context.Context, snap *Snapshot, pending []*corev1.Pod) ([]*corev1.Pod, error) {
	l := volumes.NewLookup(ctx, p.reader)
	snap.VolumeRequirements = map[string][]corev1.NodeSelectorRequirement{}
	kept := pending[:0:0]
	for _, pod := range pending {
		err := volumetopology.Requirements(l, pod, snap.VolumeRequirements)
		switch {
		case errors.Is(err, volumetopology.ErrWaiting):
			snap.Waiting = append(snap.Waiting, &scheduling.Unschedulable{Pod: pod, Reason: err.Error()})
		case err != nil:
			return nil, fmt.Errorf("volumes of pod %s/%s: %w", pod.Namespace, pod.Name, err)
		default:
			kept = append(kept, pod)
		}
	}
	for _, n := range snap.Nodes {
		for _, pod := range n.Pods {
			// A running pod's claims are bound; one that cannot be read
			// leaves the pod unconstrained by it, as before it was bound.
			_ = volumetopology.Requirements(l, pod, snap.VolumeRequirements)
		}
	}
	return kept, nil
}
