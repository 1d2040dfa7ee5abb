package interruption

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/awsevents"
	"github.com/nodewright/nodewright/controller/utils/index"
)

// Annotations on an interrupted NodeClaim.
const (
	// KindAnnotationKey records the interruption handled; its presence makes
	// later messages about the instance no-ops.
	KindAnnotationKey = v1.Group + "/interruption"
	// MessageTimeAnnotationKey is when the event was emitted (RFC 3339).
	MessageTimeAnnotationKey = v1.Group + "/interruption-time"
	// DeleteByAnnotationKey is when the claim is deleted at the latest, even
	// if its replacements have not launched (RFC 3339). Absent: not deleted
	// (a cordon).
	DeleteByAnnotationKey = v1.Group + "/interruption-delete-by"
	// ReplacementsAnnotationKey names the NodeClaims launched for its pods.
	ReplacementsAnnotationKey = v1.Group + "/interruption-replacements"
)

// claimFor finds the NodeClaim of an instance through the field index.
func (c *Controller) claimFor(ctx context.Context, instanceID string) (*v1.NodeClaim, error) {
	var list v1.NodeClaimList
	if err := c.kube.List(ctx, &list, client.MatchingFields{index.NodeClaimInstanceID: instanceID}); err != nil {
		return nil, fmt.Errorf("finding the nodeclaim of instance %s: %w", instanceID, err)
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	return &list.Items[0], nil
}

// handled reports whether an interruption of nc has already been acted on.
func handled(nc *v1.NodeClaim) bool { return nc.Annotations[KindAnnotationKey] != "" }

// annotate records the interruption on the claim: the Drainer takes it from
// there, and later messages about the instance are no-ops.
func annotate(ctx context.Context, kube client.Client, nc *v1.NodeClaim, msg *awsevents.Message, deleteBy time.Time, replacements []string) error {
	patch := client.MergeFrom(nc.DeepCopy())
	if nc.Annotations == nil {
		nc.Annotations = map[string]string{}
	}
	nc.Annotations[KindAnnotationKey] = string(msg.Kind)
	nc.Annotations[MessageTimeAnnotationKey] = msg.Time.UTC().Format(time.RFC3339)
	if !deleteBy.IsZero() {
		nc.Annotations[DeleteByAnnotationKey] = deleteBy.UTC().Format(time.RFC3339)
	}
	nc.Annotations[ReplacementsAnnotationKey] = strings.Join(replacements, ",")
	if err := kube.Patch(ctx, nc, patch); err != nil {
		return fmt.Errorf("annotating interrupted nodeclaim %s: %w", nc.Name, err)
	}
	return nil
}
