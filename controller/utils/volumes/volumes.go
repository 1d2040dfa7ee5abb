// Package volumes reads the claims, volumes and storage classes a pod's
// volumes name, through a controller-runtime reader, for volumetopology.
package volumes

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Lookup is volumetopology.Lookup over a reader (the controller's cache).
type Lookup struct {
	ctx    context.Context
	reader client.Reader
}

// NewLookup reads with reader under ctx.
func NewLookup(ctx context.Context, reader client.Reader) Lookup {
	return Lookup{ctx: ctx, reader: reader}
}

func (l Lookup) Claim(namespace, name string) (*corev1.PersistentVolumeClaim, error) {
	return get(l, client.ObjectKey{Namespace: namespace, Name: name}, &corev1.PersistentVolumeClaim{})
}

func (l Lookup) Volume(name string) (*corev1.PersistentVolume, error) {
	return get(l, client.ObjectKey{Name: name}, &corev1.PersistentVolume{})
}

func (l Lookup) Class(name string) (*storagev1.StorageClass, error) {
	return get(l, client.ObjectKey{Name: name}, &storagev1.StorageClass{})
}

// get is nil and no error for an object that does not exist.
func get[T client.Object](l Lookup, key client.ObjectKey, obj T) (T, error) {
	var zero T
	if err := l.reader.Get(l.ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return zero, nil
		}
		return zero, err
	}
	return obj, nil
}
