package provisioning

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/nodewright/nodewright/controller/engine/volumetopology"
	"github.com/nodewright/nodewright/controller/utils/volumes"
)

// volumeRequirements puts into the snapshot the node requirements of the
// claims the pods to place use, and those of the pods on its nodes (which
// what-ifs may move), and returns the pods to place without those that
// must wait for their volumes: the snapshot lists those as Waiting, with
// why.
func (p *Provisioner) volumeRequirements(ctx context.Context, snap *Snapshot, pending []*corev1.Pod) ([]*corev1.Pod, error) {
	var bound []*corev1.Pod
	for _, n := range snap.Nodes {
		bound = append(bound, n.Pods...)
	}
	kept, claims, waiting, err := volumetopology.Split(volumes.NewLookup(ctx, p.reader), pending, bound)
	if err != nil {
		return nil, err
	}
	snap.VolumeRequirements, snap.VolumeDrivers, snap.Waiting = claims.Requirements, claims.Drivers, waiting
	return kept, nil
}
