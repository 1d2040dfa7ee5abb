// Package volumetopology works out where a pod's persistent volumes let it
// run: the node requirements of its claims, as kube-scheduler's
// VolumeBinding plugin reads them (a bound volume's node affinity, an
// unbound claim's StorageClass allowedTopologies), the CSI driver each
// claim attaches through (for nodes' attach limits), or why the pod cannot
// be placed yet. It reads the objects through Lookup and has no client of its
// own, so the controller and `nodewright simulate` share it.
package volumetopology

import (
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/utils/resources"
)

// Lookup finds the objects a pod's volumes name; each returns nil and no
// error when the object does not exist.
type Lookup interface {
	Claim(namespace, name string) (*corev1.PersistentVolumeClaim, error)
	Volume(name string) (*corev1.PersistentVolume, error)
	Class(name string) (*storagev1.StorageClass, error)
}

// ErrWaiting wraps the reasons a pod cannot be placed until its claims
// change: a claim that is missing, being deleted, lost, or unbound with
// Immediate binding. kube-scheduler leaves such pods pending too.
var ErrWaiting = errors.New("waiting for its volumes")

// Claims is what a solve learns from its pods' persistent volume claims,
// keyed "namespace/claim".
type Claims struct {
	// Requirements are the node requirements of each claim's volume.
	Requirements map[string][]corev1.NodeSelectorRequirement
	// Drivers name the CSI driver each claim's volume attaches through,
	// where it has one; the scheduler counts those against the node's
	// attach limit (kube-scheduler's NodeVolumeLimits).
	Drivers map[string]string
}

// NewClaims makes an empty Claims.
func NewClaims() Claims {
	return Claims{Requirements: map[string][]corev1.NodeSelectorRequirement{}, Drivers: map[string]string{}}
}

// Add learns each persistent volume claim the pod uses. An error wrapping
// ErrWaiting says why the pod must wait; any other is a failed read.
func (c Claims) Add(l Lookup, p *corev1.Pod) error {
	for _, v := range p.Spec.Volumes {
		name := scheduling.ClaimName(p, v)
		if name == "" {
			continue
		}
		key := p.Namespace + "/" + name
		if _, done := c.Requirements[key]; done {
			continue
		}
		r, driver, err := claimVolume(l, p.Namespace, name)
		if err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		c.Requirements[key] = r
		if driver != "" {
			c.Drivers[key] = driver
		}
	}
	return nil
}

// Split learns the claims of the pods to place and of the pods already
// bound (which a what-if may move). It returns the pods to place without
// those that must wait for their volumes, which come back as unschedulable
// with why. A bound pod's claim that cannot be read leaves the pod
// unconstrained by it, as it was placed before; a failed read for a pod to
// place is an error.
func Split(l Lookup, pending, bound []*corev1.Pod) (placeable []*corev1.Pod, claims Claims, waiting []*scheduling.Unschedulable, err error) {
	claims = NewClaims()
	for _, p := range bound {
		_ = claims.Add(l, p)
	}
	for _, p := range pending {
		err := claims.Add(l, p)
		switch {
		case errors.Is(err, ErrWaiting):
			waiting = append(waiting, &scheduling.Unschedulable{Pod: p, Reason: err.Error()})
		case err != nil:
			return nil, Claims{}, nil, fmt.Errorf("volumes of pod %s/%s: %w", p.Namespace, p.Name, err)
		default:
			placeable = append(placeable, p)
		}
	}
	return placeable, claims, waiting, nil
}

// claimVolume reads a claim's volume: its node requirements, and the CSI
// driver that attaches it.
func claimVolume(l Lookup, namespace, name string) ([]corev1.NodeSelectorRequirement, string, error) {
	pvc, err := l.Claim(namespace, name)
	if err != nil {
		return nil, "", fmt.Errorf("reading persistentvolumeclaim %s/%s: %w", namespace, name, err)
	}
	switch {
	case pvc == nil:
		return nil, "", fmt.Errorf("%w: persistentvolumeclaim %s/%s not found", ErrWaiting, namespace, name)
	case pvc.DeletionTimestamp != nil:
		return nil, "", fmt.Errorf("%w: persistentvolumeclaim %s/%s is being deleted", ErrWaiting, namespace, name)
	case pvc.Status.Phase == corev1.ClaimLost:
		return nil, "", fmt.Errorf("%w: persistentvolumeclaim %s/%s lost its volume %s", ErrWaiting, namespace, name, pvc.Spec.VolumeName)
	}
	if pvc.Spec.VolumeName != "" {
		pv, err := l.Volume(pvc.Spec.VolumeName)
		if err != nil {
			return nil, "", fmt.Errorf("reading persistentvolume %s: %w", pvc.Spec.VolumeName, err)
		}
		if pv == nil {
			return nil, "", fmt.Errorf("%w: persistentvolume %s of claim %s/%s not found", ErrWaiting, pvc.Spec.VolumeName, namespace, name)
		}
		return volumeRequirements(pv), volumeDriver(pv), nil
	}
	className := ""
	if pvc.Spec.StorageClassName != nil {
		className = *pvc.Spec.StorageClassName
	}
	if className == "" {
		return nil, "", fmt.Errorf("%w: persistentvolumeclaim %s/%s is unbound and names no storage class", ErrWaiting, namespace, name)
	}
	sc, err := l.Class(className)
	if err != nil {
		return nil, "", fmt.Errorf("reading storageclass %s: %w", className, err)
	}
	if sc == nil {
		return nil, "", fmt.Errorf("%w: storageclass %s of claim %s/%s not found", ErrWaiting, className, namespace, name)
	}
	if sc.VolumeBindingMode == nil || *sc.VolumeBindingMode == storagev1.VolumeBindingImmediate {
		// The volume is made, wherever its driver chooses, before any pod
		// is placed; the pod then follows the volume.
		return nil, "", fmt.Errorf("%w: persistentvolumeclaim %s/%s is not bound yet (storageclass %s binds Immediate)", ErrWaiting, namespace, name, className)
	}
	// WaitForFirstConsumer: the volume is made where the pod goes, which
	// must be a place the class allows (kube-scheduler's checkVolumeProvisions).
	var terms [][]corev1.NodeSelectorRequirement
	for _, t := range sc.AllowedTopologies {
		var term []corev1.NodeSelectorRequirement
		for _, e := range t.MatchLabelExpressions {
			term = append(term, corev1.NodeSelectorRequirement{Key: e.Key, Operator: corev1.NodeSelectorOpIn, Values: e.Values})
		}
		terms = append(terms, term)
	}
	return oneTerm(terms), csiDriver(sc.Provisioner), nil
}

// volumeDriver is the CSI driver of a bound volume; an in-tree EBS volume
// is the EBS CSI driver's since CSI migration, as kube-scheduler counts it.
func volumeDriver(pv *corev1.PersistentVolume) string {
	switch {
	case pv.Spec.CSI != nil:
		return pv.Spec.CSI.Driver
	case pv.Spec.AWSElasticBlockStore != nil:
		return resources.EBSCSIDriver
	}
	return ""
}

// csiDriver is the driver that will attach a volume a class provisions,
// with the in-tree EBS provisioner's name translated as CSI migration does.
func csiDriver(provisioner string) string {
	if provisioner == "kubernetes.io/aws-ebs" {
		return resources.EBSCSIDriver
	}
	return provisioner
}

// volumeRequirements are a bound volume's node affinity. A local or
// hostPath volume's hostname is left out, as Karpenter does: no new node
// has that name, and the pod is placed by the rest.
func volumeRequirements(pv *corev1.PersistentVolume) []corev1.NodeSelectorRequirement {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return nil
	}
	local := pv.Spec.Local != nil || pv.Spec.HostPath != nil
	var terms [][]corev1.NodeSelectorRequirement
	for _, t := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
		term := t.MatchExpressions
		if local {
			term = slices.DeleteFunc(slices.Clone(term), func(r corev1.NodeSelectorRequirement) bool { return r.Key == corev1.LabelHostname })
		}
		terms = append(terms, term)
	}
	return oneTerm(terms)
}

// oneTerm folds ORed terms into the one requirement list the engine keeps
// per claim. Terms that each allow values of the same single key (zone a
// OR zone b, as regional volumes and multi-zone classes write them) become
// one In over all their values; an empty term allows anything. Other
// shapes keep the first term, which is narrower than kube-scheduler but
// never places a pod where its volume cannot go.
func oneTerm(terms [][]corev1.NodeSelectorRequirement) []corev1.NodeSelectorRequirement {
	switch len(terms) {
	case 0:
		return nil
	case 1:
		return terms[0]
	}
	key := ""
	var values []string
	for _, t := range terms {
		if len(t) == 0 {
			return nil
		}
		if len(t) != 1 || t[0].Operator != corev1.NodeSelectorOpIn || key != "" && t[0].Key != key {
			return terms[0]
		}
		key = t[0].Key
		values = append(values, t[0].Values...)
	}
	slices.Sort(values)
	return []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: slices.Compact(values)}}
}
