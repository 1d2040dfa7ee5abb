// Package patch writes objects that other controllers write too.
package patch

import (
	"context"

	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Locked applies mutate to obj and writes the change as a merge patch under
// an optimistic lock. The lock is needed because a merge patch replaces
// lists (taints, finalizers) whole, so an unlocked one would drop what
// another writer added meanwhile; the kubelet, kube-controller-manager and
// our own controllers write Nodes and NodeClaims all the time. On a
// conflict it reads obj again and reapplies mutate, with backoff, rather
// than failing the reconcile. obj should be freshly read; on return it
// holds what was written (or last read).
func Locked[T client.Object](ctx context.Context, kube client.Client, obj T, mutate func(T)) error {
	fresh := true
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if !fresh {
			if err := kube.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return err
			}
		}
		fresh = false
		stored := obj.DeepCopyObject().(T)
		mutate(obj)
		return kube.Patch(ctx, obj, client.MergeFromWithOptions(stored, client.MergeFromWithOptimisticLock{}))
	})
}
