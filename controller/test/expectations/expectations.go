// Package expectations holds the assertions controller tests share against
// an apiserver: create, apply, delete, exists, not found, and polling until a
// condition holds. Each fails the test at its caller's line (t.Helper), so
// a failure points at the test, not here.
// It is for tests only and talks to the API server it is given.
package expectations

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ExpectCreated creates each object, failing if one already exists.
func ExpectCreated(ctx context.Context, t testing.TB, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, client.ObjectKeyFromObject(o), err)
		}
	}
}

// ExpectApplied creates each object, or updates it if it exists; the
// objects are left as stored.
func ExpectApplied(ctx context.Context, t testing.TB, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		err := c.Create(ctx, o)
		if apierrors.IsAlreadyExists(err) {
			current := o.DeepCopyObject().(client.Object)
			if err = c.Get(ctx, client.ObjectKeyFromObject(o), current); err == nil {
				o.SetResourceVersion(current.GetResourceVersion())
				err = c.Update(ctx, o)
			}
		}
		if err != nil {
			t.Fatalf("applying %T %s: %v", o, client.ObjectKeyFromObject(o), err)
		}
	}
}

// ExpectStatusUpdated writes each object's status as it is in memory.
func ExpectStatusUpdated(ctx context.Context, t testing.TB, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Status().Update(ctx, o); err != nil {
			t.Fatalf("updating status of %T %s: %v", o, client.ObjectKeyFromObject(o), err)
		}
	}
}

// ExpectDeleted deletes each object; one already gone is deleted.
func ExpectDeleted(ctx context.Context, t testing.TB, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
			t.Fatalf("deleting %T %s: %v", o, client.ObjectKeyFromObject(o), err)
		}
	}
}

// ExpectExists reads obj by its key into obj and returns it.
func ExpectExists[T client.Object](ctx context.Context, t testing.TB, c client.Client, obj T) T {
	t.Helper()
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatalf("getting %T %s: %v", obj, client.ObjectKeyFromObject(obj), err)
	}
	return obj
}

// ExpectNotFound fails unless every object is gone.
func ExpectNotFound(ctx context.Context, t testing.TB, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		probe := o.DeepCopyObject().(client.Object)
		err := c.Get(ctx, client.ObjectKeyFromObject(o), probe)
		if err == nil {
			t.Fatalf("%T %s still exists", o, client.ObjectKeyFromObject(o))
		}
		if !apierrors.IsNotFound(err) {
			t.Fatalf("getting %T %s: %v", o, client.ObjectKeyFromObject(o), err)
		}
	}
}

// Eventually polls cond every 100 ms until it holds, failing once timeout
// passes; what names the wait in the failure.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
