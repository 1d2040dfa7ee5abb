package index

import (
	"context"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// NodeClaimInstanceID indexes NodeClaims by the EC2 instance id at the end
// of status.providerID (aws:///<zone>/i-...), which interruption events name.
const NodeClaimInstanceID = "status.instanceID"

// InstanceID is the last path element of a providerID, or "".
func InstanceID(providerID string) string {
	i := strings.LastIndex(providerID, "/")
	if providerID == "" || i == len(providerID)-1 {
		return ""
	}
	return providerID[i+1:]
}

// NodeClaimsByInstanceID registers the NodeClaimInstanceID index on mgr, once.
func NodeClaimsByInstanceID(ctx context.Context, mgr manager.Manager) error {
	mu.Lock()
	defer mu.Unlock()
	if registered[mgr][NodeClaimInstanceID] {
		return nil
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1.NodeClaim{}, NodeClaimInstanceID, func(o client.Object) []string {
		if id := InstanceID(o.(*v1.NodeClaim).Status.ProviderID); id != "" {
			return []string{id}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("indexing nodeclaims by instance id: %w", err)
	}
	if registered[mgr] == nil {
		registered[mgr] = map[string]bool{}
	}
	registered[mgr][NodeClaimInstanceID] = true
	return nil
}
