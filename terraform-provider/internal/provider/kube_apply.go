package provider

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

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
