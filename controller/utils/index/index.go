// Package index registers the cache indexes controllers share. A field can
// be indexed once per manager, so controllers ask here instead of
// registering their own.
package index

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// PodNodeName indexes pods by spec.nodeName (also a server-side field
// selector, so the same key works against the API server).
const PodNodeName = "spec.nodeName"

var (
	// mu guards registered.
	mu         sync.Mutex
	registered = map[manager.Manager]map[string]bool{}
)

// PodsByNode registers the PodNodeName index on mgr, once.
func PodsByNode(ctx context.Context, mgr manager.Manager) error {
	mu.Lock()
	defer mu.Unlock()
	if registered[mgr][PodNodeName] {
		return nil
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &corev1.Pod{}, PodNodeName, func(o client.Object) []string {
		return []string{o.(*corev1.Pod).Spec.NodeName}
	}); err != nil {
		return fmt.Errorf("indexing pods by node: %w", err)
	}
	if registered[mgr] == nil {
		registered[mgr] = map[string]bool{}
	}
	registered[mgr][PodNodeName] = true
	return nil
}
