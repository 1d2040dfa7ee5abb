package provisioning

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// A batch reads the cluster through the manager's cache, as Karpenter's
// cluster state does: at 10 000 pods a LIST through the apiserver took
// seconds a batch, and minutes for a Replace on a busy apiserver. The cache
// may lag what this provisioner itself wrote a moment ago, so the claims it
// created and the pods it nominated are kept here until the cache shows
// them; otherwise the next batch would launch for the same pods again.

// unseenFor is how long a created claim may be missing from the cache
// before the apiserver is asked whether it still exists: one deleted before
// the cache saw it (a launch that found no capacity) would otherwise be
// counted as room for pods.
const unseenFor = 5 * time.Second

// createdClaim is a NodeClaim as created, and when.
type createdClaim struct {
	nc *v1.NodeClaim
	at time.Time
}

// remember records a claim just created, for listClaims.
func (p *Provisioner) remember(nc *v1.NodeClaim) {
	p.created.Store(nc.Name, createdClaim{nc: nc.DeepCopy(), at: p.clock.Now()})
}

// listClaims lists every NodeClaim, with those this provisioner created and
// the reader does not show yet. A created claim is forgotten once listed,
// or once the apiserver says it is gone.
func (p *Provisioner) listClaims(ctx context.Context) (*v1.NodeClaimList, error) {
	var claims v1.NodeClaimList
	if err := p.reader.List(ctx, &claims); err != nil {
		return nil, fmt.Errorf("listing nodeclaims: %w", err)
	}
	listed := make(map[string]bool, len(claims.Items))
	for i := range claims.Items {
		listed[claims.Items[i].Name] = true
	}
	var errs []error
	p.created.Range(func(k, v any) bool {
		name, c := k.(string), v.(createdClaim)
		if listed[name] {
			p.created.CompareAndDelete(name, c)
			return true
		}
		if p.clock.Since(c.at) < unseenFor {
			claims.Items = append(claims.Items, *c.nc.DeepCopy())
			return true
		}
		var nc v1.NodeClaim
		switch err := p.apiReader.Get(ctx, client.ObjectKey{Name: name}, &nc); {
		case apierrors.IsNotFound(err):
			p.created.CompareAndDelete(name, c)
		case err != nil:
			errs = append(errs, fmt.Errorf("getting nodeclaim %s, created %s ago and not yet in the cache: %w", name, p.clock.Since(c.at), err))
		default:
			claims.Items = append(claims.Items, nc)
		}
		return true
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &claims, nil
}

// listPods lists every pod, with the nominations whose annotations are not
// yet written (or not yet read back) filled in. A nomination is forgotten
// once the pod shows it, or the pod is gone.
//
// The pods are the cache's own objects, not copies: copying every pod for
// each batch was a twentieth of the controller's CPU at 4 000 pods, and
// nothing downstream writes to them. A pod given a nomination gets its own
// annotations map.
func (p *Provisioner) listPods(ctx context.Context) (*corev1.PodList, error) {
	var pods corev1.PodList
	if err := p.reader.List(ctx, &pods, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	seen := make(map[types.UID]bool, len(pods.Items))
	for i := range pods.Items {
		pod := &pods.Items[i]
		seen[pod.UID] = true
		v, ok := p.nominations.Load(pod.UID)
		if !ok {
			continue
		}
		if claim := v.(string); pod.Annotations[NominatedAnnotationKey] == claim {
			p.nominations.CompareAndDelete(pod.UID, claim)
		} else {
			pod.Annotations = maps.Clone(pod.Annotations)
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[NominatedAnnotationKey] = claim
		}
	}
	p.nominations.Range(func(uid, _ any) bool {
		if !seen[uid.(types.UID)] {
			p.nominations.Delete(uid)
		}
		return true
	})
	return &pods, nil
}
