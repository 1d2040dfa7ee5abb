package disruption

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// Reasons of the Drifted condition.
const (
	ReasonNodePoolDrifted      = "NodePoolDrifted"
	ReasonNodeClassDrifted     = "NodeClassDrifted"
	ReasonRequirementsDrifted  = "RequirementsDrifted"
	ReasonAMIDrifted           = "AMIDrifted"
	ReasonSubnetDrifted        = "SubnetDrifted"
	ReasonSecurityGroupDrifted = "SecurityGroupDrifted"
	ReasonNotDrifted           = "NotDrifted"
)

// Drift is why a claim no longer matches what its pool would launch now.
type Drift struct {
	Reason  string
	Message string
}

// Detect returns the first way the claim has drifted from its pool and node
// class, or nil. nodeClass may be nil (not found): then only the pool is
// compared. Parts of the node class status that are still empty (not
// resolved yet) are not held against the claim, nor are annotations the
// claim doesn't carry.
func Detect(np *v1.NodePool, nodeClass *v1.EC2NodeClass, nc *v1.NodeClaim) *Drift {
	if d := requirementsDrift(np, nc); d != nil {
		return d
	}
	if d := hashDrift(np, nc); d != nil {
		return d
	}
	if nodeClass == nil {
		return nil
	}
	if d := nodeClassHashDrift(nodeClass, nc); d != nil {
		return d
	}
	if d := amiDrift(nodeClass, nc); d != nil {
		return d
	}
	if d := subnetDrift(nodeClass, nc); d != nil {
		return d
	}
	return securityGroupDrift(nodeClass, nc)
}

// hashDrift compares template hashes computed by the same algorithm version;
// a claim stamped by another version is re-stamped by the controller instead.
func hashDrift(np *v1.NodePool, nc *v1.NodeClaim) *Drift {
	return stampDrift(nc, v1.NodePoolHashAnnotationKey, v1.NodePoolHashVersionAnnotationKey, v1.NodePoolHashVersion,
		np.Hash(), ReasonNodePoolDrifted, "nodepool template hash")
}

// nodeClassHashDrift compares the node class a claim was launched with
// (stamped at launch) with the node class now: user data, tags, kubelet,
// block devices, metadata options, role. A claim launched before the stamp
// existed, or stamped by another version of the hash, is not judged.
func nodeClassHashDrift(nodeClass *v1.EC2NodeClass, nc *v1.NodeClaim) *Drift {
	return stampDrift(nc, v1.EC2NodeClassHashAnnotationKey, v1.EC2NodeClassHashVersionAnnotationKey, v1.EC2NodeClassHashVersion,
		nodeClass.Hash(), ReasonNodeClassDrifted, "ec2nodeclass "+nodeClass.Name+" hash")
}

// stampDrift is drift when the hash stamped on the claim under hashKey,
// by this version of the algorithm, differs from want.
func stampDrift(nc *v1.NodeClaim, hashKey, versionKey, version, want, reason, what string) *Drift {
	have, ok := nc.Annotations[hashKey]
	if !ok || nc.Annotations[versionKey] != version || have == want {
		return nil
	}
	return &Drift{reason, fmt.Sprintf("%s %s != %s", what, have, want)}
}

// requirementsDrift is drift when a label the claim carries (the instance
// type's, the offering's, the template's) no longer satisfies the pool's
// requirement on that key. Requirements are not in the hash, so widening a
// pool drifts nothing and narrowing it drifts only the claims outside. A
// requirement on a key the claim has no label for is not held against it:
// the claim was not launched far enough to know, or the key is not one an
// instance is described by.
func requirementsDrift(np *v1.NodePool, nc *v1.NodeClaim) *Drift {
	sel := make([]corev1.NodeSelectorRequirement, 0, len(np.Spec.Template.Spec.Requirements))
	for _, r := range np.Spec.Template.Spec.Requirements {
		if _, ok := nc.Labels[r.Key]; ok {
			sel = append(sel, corev1.NodeSelectorRequirement{Key: r.Key, Operator: r.Operator, Values: r.Values})
		}
	}
	if len(sel) == 0 {
		return nil
	}
	reqs, err := scheduling.NewRequirements(sel...)
	if err != nil {
		// The API validates requirements; an unparsable one can't be judged.
		return nil
	}
	if ok, key := reqs.SatisfiedBy(nc.Labels); !ok {
		return &Drift{ReasonRequirementsDrifted, fmt.Sprintf("label %s=%s no longer satisfies the nodepool's requirement %s",
			key, nc.Labels[key], reqs[key])}
	}
	return nil
}

func amiDrift(nodeClass *v1.EC2NodeClass, nc *v1.NodeClaim) *Drift {
	ids := make([]string, 0, len(nodeClass.Status.AMIs))
	for _, a := range nodeClass.Status.AMIs {
		ids = append(ids, a.ID)
	}
	return memberDrift(ReasonAMIDrifted, "image", nc.Status.ImageID, "AMIs", ids)
}

func subnetDrift(nodeClass *v1.EC2NodeClass, nc *v1.NodeClaim) *Drift {
	ids := make([]string, 0, len(nodeClass.Status.Subnets))
	for _, s := range nodeClass.Status.Subnets {
		ids = append(ids, s.ID)
	}
	return memberDrift(ReasonSubnetDrifted, "subnet", nc.Annotations[v1.SubnetIDAnnotationKey], "subnets", ids)
}

// memberDrift is drift when what the claim launched with (have) is no longer
// among what its node class resolves to (ids). Either side unknown is no
// drift: an unresolved node class or an unrecorded launch says nothing.
func memberDrift(reason, what, have, among string, ids []string) *Drift {
	if have == "" || len(ids) == 0 || slices.Contains(ids, have) {
		return nil
	}
	return &Drift{reason, fmt.Sprintf("%s %s is no longer among the node class's %s %v", what, have, among, sortedSet(ids))}
}

// securityGroupDrift: launch gives an instance every group of its node class,
// so any difference between the two sets, either way, is drift.
func securityGroupDrift(nodeClass *v1.EC2NodeClass, nc *v1.NodeClaim) *Drift {
	recorded := nc.Annotations[v1.SecurityGroupIDsAnnotationKey]
	if recorded == "" || len(nodeClass.Status.SecurityGroups) == 0 {
		return nil
	}
	have := sortedSet(strings.Split(recorded, ","))
	want := make([]string, 0, len(nodeClass.Status.SecurityGroups))
	for _, g := range nodeClass.Status.SecurityGroups {
		want = append(want, g.ID)
	}
	want = sortedSet(want)
	if slices.Equal(have, want) {
		return nil
	}
	return &Drift{ReasonSecurityGroupDrifted, fmt.Sprintf("security groups %v != the node class's %v", have, want)}
}

func sortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
