// Package volumes reads the claims, volumes and storage classes a pod's
// volumes name, through a controller-runtime reader, for volumetopology,
// and the nodes' attach limits from their CSINodes.
package volumes

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewright/nodewright/controller/utils/resources"
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

// AttachLimits adds to each node's allocatable the attach limits its
// CSINode publishes, one resources.AttachLimit per driver that gives a
// count: that is where kube-scheduler's NodeVolumeLimits reads them, and a
// node without one has no limit. The nodes must be the caller's own copies
// (a List's items).
func AttachLimits(ctx context.Context, reader client.Reader, nodes []corev1.Node) error {
	var csiNodes storagev1.CSINodeList
	if err := reader.List(ctx, &csiNodes); err != nil {
		return fmt.Errorf("listing csinodes: %w", err)
	}
	byName := make(map[string]*storagev1.CSINode, len(csiNodes.Items))
	for i := range csiNodes.Items {
		byName[csiNodes.Items[i].Name] = &csiNodes.Items[i]
	}
	for i := range nodes {
		cn := byName[nodes[i].Name]
		if cn == nil {
			continue
		}
		limits := CSINodeLimits(cn)
		if len(limits) > 0 && nodes[i].Status.Allocatable == nil {
			nodes[i].Status.Allocatable = corev1.ResourceList{}
		}
		for r, q := range limits {
			nodes[i].Status.Allocatable[r] = q
		}
	}
	return nil
}

// CSINodeLimits are the attach limits a CSINode publishes, as
// resources.AttachLimit entries; a driver that gives no count has none.
func CSINodeLimits(cn *storagev1.CSINode) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, d := range cn.Spec.Drivers {
		if d.Allocatable != nil && d.Allocatable.Count != nil {
			out[resources.AttachLimit(d.Name)] = *resource.NewQuantity(int64(*d.Allocatable.Count), resource.DecimalSI)
		}
	}
	return out
}
