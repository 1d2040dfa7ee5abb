// Package index defines the cache indexes controllers share. The operator
// registers them all once per manager (a field can be indexed only once),
// before any controller starts; controllers only read through them.
package index

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// PodNodeName indexes pods by spec.nodeName (also a server-side field
// selector, so the same key works against the API server).
const PodNodeName = "spec.nodeName"

// VolumeAttachmentNodeName indexes VolumeAttachments by spec.nodeName. The
// API server has no such field selector for them, so it works only
// through a cache that registered this index.
const VolumeAttachmentNodeName = "spec.nodeName"

// Register adds every shared index to mgr's cache.
func Register(ctx context.Context, mgr manager.Manager) error {
	return RegisterWith(ctx, mgr.GetFieldIndexer())
}

// RegisterWith adds every shared index to indexer; tests that build their
// own cache use it.
func RegisterWith(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &corev1.Pod{}, PodNodeName, func(o client.Object) []string {
		return []string{o.(*corev1.Pod).Spec.NodeName}
	}); err != nil {
		return fmt.Errorf("indexing pods by node: %w", err)
	}
	if err := indexer.IndexField(ctx, &v1.NodeClaim{}, NodeClaimInstanceID, func(o client.Object) []string {
		if id := InstanceID(o.(*v1.NodeClaim).Status.ProviderID); id != "" {
			return []string{id}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing nodeclaims by instance id: %w", err)
	}
	if err := indexer.IndexField(ctx, &storagev1.VolumeAttachment{}, VolumeAttachmentNodeName, func(o client.Object) []string {
		return []string{o.(*storagev1.VolumeAttachment).Spec.NodeName}
	}); err != nil {
		return fmt.Errorf("indexing volume attachments by node: %w", err)
	}
	return nil
}
