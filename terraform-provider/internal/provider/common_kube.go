package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// kubeScheme mirrors controller/operator.Scheme(): client-go's types plus
// nodewright's. It is built here rather than imported so the provider binary
// doesn't link the whole operator.
func kubeScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

func init() {
	// controller-runtime's client logs through a global logger and prints
	// a stack trace into Terraform's output when none was ever set; the
	// provider reports through diagnostics instead.
	ctrllog.SetLogger(logr.Discard())
}

// kubeClient resolves the cluster (lazily, see providerData.Kube) and returns
// a controller-runtime client. Only Create/Read/Update/Delete/ImportState may
// call it: plans must work without a cluster.
func kubeClient(ctx context.Context, d *providerData) (client.Client, error) {
	if d == nil {
		return nil, fmt.Errorf("the provider is not configured")
	}
	cfg, err := d.Kube(ctx)
	if err != nil {
		return nil, err
	}
	s, err := kubeScheme()
	if err != nil {
		return nil, fmt.Errorf("building the Kubernetes scheme: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		return nil, fmt.Errorf("building a Kubernetes client for %s: %w", cfg.Host, err)
	}
	return c, nil
}

func kindOf(c client.Client, obj client.Object) string {
	gvk, err := c.GroupVersionKindFor(obj)
	if err != nil {
		return fmt.Sprintf("%T", obj)
	}
	return gvk.Kind
}

// upsert creates obj or replaces the existing object's content with it.
// Fields other controllers own on these objects (namespace finalizers,
// Deployment status) are not part of what an Update replaces.
func upsert(ctx context.Context, c client.Client, obj client.Object) error {
	existing := obj.DeepCopyObject().(client.Object)
	err := c.Get(ctx, client.ObjectKeyFromObject(obj), existing)
	if apierrors.IsNotFound(err) {
		return c.Create(ctx, obj)
	}
	if err != nil {
		return err
	}
	if existing.GetDeletionTimestamp() != nil {
		return fmt.Errorf("it is being deleted; wait until it is gone and apply again")
	}
	obj.SetResourceVersion(existing.GetResourceVersion())
	// Keep annotations others added (kubectl, deployment revision).
	ann := existing.GetAnnotations()
	for k, v := range obj.GetAnnotations() {
		if ann == nil {
			ann = map[string]string{}
		}
		ann[k] = v
	}
	if sa, ok := obj.(*corev1.ServiceAccount); ok {
		// The role ARN annotation is ours to remove when unset.
		if _, set := sa.Annotations[roleARNAnnotation]; !set {
			delete(ann, roleARNAnnotation)
		}
	}
	obj.SetAnnotations(ann)
	return c.Update(ctx, obj)
}

// kubeUpdateWithRetry reads the object, applies mutate and writes it back,
// retrying when someone else changed it in between (resourceVersion
// conflicts); on return obj holds what the apiserver stored.
func kubeUpdateWithRetry(ctx context.Context, c client.Client, key client.ObjectKey, obj client.Object, mutate func()) error {
	var err error
	for range 5 {
		if err = c.Get(ctx, key, obj); err != nil {
			return err
		}
		mutate()
		if err = c.Update(ctx, obj); err == nil || !apierrors.IsConflict(err) {
			return err
		}
	}
	return err
}

// kubePollUntil calls done every second until it returns true or an error, or
// the timeout passes.
func kubePollUntil(ctx context.Context, timeout time.Duration, done func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last error
	for {
		ok, err := done()
		if ok && err == nil {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("timed out; last error: %w", last)
			}
			return fmt.Errorf("timed out")
		case <-tick.C:
		}
	}
}

// defaultDeleteTimeout bounds how long destroy waits for the controller.
const defaultDeleteTimeout = "10m"
