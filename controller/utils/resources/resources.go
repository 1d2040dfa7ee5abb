// Package resources holds arithmetic on resource lists that controllers and
// cloud providers share. It is pure.
package resources

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// attachLimitPrefix is how kubelet named a CSI driver's attach limit in a
// node's allocatable before CSINode held it (GetCSIAttachLimitKey in
// k8s.io/kubernetes pkg/volume/util): the name reads the same to anyone who
// knew it, and no device plugin registers a resource by it.
const attachLimitPrefix = "attachable-volumes-csi-"

// EBSCSIDriver is the Amazon EBS CSI driver, which also serves the in-tree
// aws-ebs volumes CSI migration hands it.
const EBSCSIDriver = "ebs.csi.aws.com"

// AttachLimit is the resource that counts the volumes of a CSI driver a pod
// uses, and that a node can attach.
func AttachLimit(driver string) corev1.ResourceName {
	return corev1.ResourceName(attachLimitPrefix + driver)
}

// IsAttachLimit reports whether the resource counts attached volumes.
func IsAttachLimit(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), attachLimitPrefix)
}

// Fits reports whether allocatable covers every request; a resource the
// allocatable does not list has none, except an attach limit: a node that
// publishes none has none, as kube-scheduler's NodeVolumeLimits lets any
// number of volumes onto a node whose CSINode gives no count.
func Fits(requests, allocatable corev1.ResourceList) bool {
	for name, q := range requests {
		a, ok := allocatable[name]
		if !ok && IsAttachLimit(name) {
			continue
		}
		if !ok || a.Cmp(q) < 0 {
			return false
		}
	}
	return true
}
