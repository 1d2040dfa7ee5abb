// Package namespaces reads the namespaces' labels, which pod affinity terms
// with a namespaceSelector match against.
package namespaces

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Labels are every namespace's labels, by name.
func Labels(ctx context.Context, reader client.Reader) (map[string]map[string]string, error) {
	var list corev1.NamespaceList
	if err := reader.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	out := make(map[string]map[string]string, len(list.Items))
	for _, ns := range list.Items {
		out[ns.Name] = ns.Labels
	}
	return out, nil
}
