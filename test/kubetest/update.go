// Package kubetest holds the few Kubernetes client helpers every test
// package shares. Tests write objects that controllers in the local cloud
// (kube-controller-manager, kwok, the scheduler, nodewright's own) write too,
// so a test must update them the way production code does: from a fresh
// read, again on a conflict. It is for tests only.
package kubetest

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Backoff is how Update retries conflicts: generous enough for a loaded
// machine where other writers may win a few rounds in a row.
var Backoff = wait.Backoff{Steps: 12, Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.1, Cap: 2 * time.Second}

// Update reads obj afresh (by its name and namespace), applies mutate to it
// and writes it back, and does so again on a conflict. On success obj is
// the stored object.
func Update[T client.Object](ctx context.Context, c client.Client, obj T, mutate func(T)) error {
	return update(ctx, c, obj, mutate, func() error { return c.Update(ctx, obj) })
}

// UpdateStatus is Update for the status subresource.
func UpdateStatus[T client.Object](ctx context.Context, c client.Client, obj T, mutate func(T)) error {
	return update(ctx, c, obj, mutate, func() error { return c.Status().Update(ctx, obj) })
}

func update[T client.Object](ctx context.Context, c client.Client, obj T, mutate func(T), write func() error) error {
	key := client.ObjectKeyFromObject(obj)
	return retry.RetryOnConflict(Backoff, func() error {
		if err := c.Get(ctx, key, obj); err != nil {
			return err
		}
		mutate(obj)
		return write()
	})
}

// Purge clears obj's finalizers (retrying conflicts) and deletes it, for
// cleanups; an object already gone is no error.
func Purge(ctx context.Context, c client.Client, obj client.Object) error {
	err := Update(ctx, c, obj, func(o client.Object) { o.SetFinalizers(nil) })
	if err != nil {
		return client.IgnoreNotFound(err)
	}
	return client.IgnoreNotFound(c.Delete(ctx, obj))
}
