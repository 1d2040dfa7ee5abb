package volumetopology

import (
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
)

// Objects is a Lookup over objects in hand, as `nodewright simulate`
// reads them from its input.
type Objects struct {
	// Claims by "namespace/name".
	Claims  map[string]*corev1.PersistentVolumeClaim
	Volumes map[string]*corev1.PersistentVolume
	Classes map[string]*storagev1.StorageClass
}

// Add files a claim, volume or storage class; other objects are ignored.
func (o *Objects) Add(obj any) {
	switch x := obj.(type) {
	case *corev1.PersistentVolumeClaim:
		if o.Claims == nil {
			o.Claims = map[string]*corev1.PersistentVolumeClaim{}
		}
		ns := x.Namespace
		if ns == "" {
			ns = corev1.NamespaceDefault
		}
		o.Claims[ns+"/"+x.Name] = x
	case *corev1.PersistentVolume:
		if o.Volumes == nil {
			o.Volumes = map[string]*corev1.PersistentVolume{}
		}
		o.Volumes[x.Name] = x
	case *storagev1.StorageClass:
		if o.Classes == nil {
			o.Classes = map[string]*storagev1.StorageClass{}
		}
		o.Classes[x.Name] = x
	}
}

func (o *Objects) Claim(namespace, name string) (*corev1.PersistentVolumeClaim, error) {
	return o.Claims[namespace+"/"+name], nil
}

func (o *Objects) Volume(name string) (*corev1.PersistentVolume, error) { return o.Volumes[name], nil }

func (o *Objects) Class(name string) (*storagev1.StorageClass, error) { return o.Classes[name], nil }
