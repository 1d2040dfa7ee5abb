package v1

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// NodePoolHashAnnotationKey on a NodeClaim records the NodePool.Hash it was
// created from; a different hash on the pool means the claim has drifted.
const NodePoolHashAnnotationKey = Group + "/nodepool-hash"

// NodePoolHashVersionAnnotationKey records how the hash was computed, so a
// change to Hash itself isn't mistaken for drift of every node.
const NodePoolHashVersionAnnotationKey = Group + "/nodepool-hash-version"

// NodePoolHashVersion is the version of Hash's algorithm. v2 left the
// requirements out: claims stamped by v1 are re-stamped, not drifted.
const NodePoolHashVersion = "v2"

// Hash fingerprints the template fields whose change makes existing nodes
// drift: labels, annotations, taints, startup taints and the node class
// reference. Requirements are left out, as in Karpenter: whether a claim
// still fits them is judged from its labels, so widening a pool drifts
// nothing and narrowing it drifts only the claims that fall outside. Fields
// that apply to nodes in place (expireAfter, terminationGracePeriod,
// disruption, limits, weight) are left out too. Taints are hashed as sets,
// so reordering them is not a change; maps are hashed in key order by
// encoding/json.
func (np *NodePool) Hash() string {
	t := np.Spec.Template
	canonical := struct {
		Labels        map[string]string `json:"labels"`
		Annotations   map[string]string `json:"annotations"`
		Taints        []string          `json:"taints"`
		StartupTaints []string          `json:"startupTaints"`
		NodeClassRef  *NodeClassReference
	}{
		Labels:        t.ObjectMeta.Labels,
		Annotations:   t.ObjectMeta.Annotations,
		Taints:        asSet(t.Spec.Taints),
		StartupTaints: asSet(t.Spec.StartupTaints),
		NodeClassRef:  t.Spec.NodeClassRef,
	}
	// An empty map and an absent one mean the same to nodes.
	if len(canonical.Labels) == 0 {
		canonical.Labels = nil
	}
	if len(canonical.Annotations) == 0 {
		canonical.Annotations = nil
	}
	b, err := json.Marshal(canonical)
	if err != nil {
		// Only plain strings, maps and structs are marshalled: can't happen.
		panic(fmt.Sprintf("hashing NodePool %s: %v", np.Name, err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// asSet encodes each element and sorts the encodings, dropping duplicates.
func asSet[T any](items []T) []string {
	if len(items) == 0 {
		return nil
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			panic(fmt.Sprintf("hashing %T: %v", it, err))
		}
		out = append(out, string(b))
	}
	slices.SortFunc(out, strings.Compare)
	return slices.Compact(out)
}

// EC2NodeClassHashAnnotationKey on a NodeClaim records the EC2NodeClass.Hash
// its instance was launched with; a different hash on the node class means
// the claim has drifted.
const EC2NodeClassHashAnnotationKey = Group + "/ec2nodeclass-hash"

// EC2NodeClassHashVersionAnnotationKey records how that hash was computed.
const EC2NodeClassHashVersionAnnotationKey = Group + "/ec2nodeclass-hash-version"

// EC2NodeClassHashVersion is the version of EC2NodeClass.Hash's algorithm.
const EC2NodeClassHashVersion = "v1"

// Hash fingerprints what a node is launched with that the node class's
// status does not track: AMI family, role or instance profile, user data,
// tags, kubelet settings, block devices and metadata options. The selector
// terms are left out, as in Karpenter: what they select is recorded in the
// status, and a claim drifts only when its own AMI, subnet or security
// groups leave that, not whenever a selector is rewritten.
func (nc *EC2NodeClass) Hash() string {
	spec := *nc.Spec.DeepCopy()
	spec.SubnetSelectorTerms, spec.SecurityGroupSelectorTerms, spec.AMISelectorTerms = nil, nil, nil
	// encoding/json writes map keys in order, and omitempty drops empty
	// maps and lists, so an empty map hashes as an absent one.
	b, err := json.Marshal(spec)
	if err != nil {
		// Only plain strings, numbers, maps and structs: can't happen.
		panic(fmt.Sprintf("hashing EC2NodeClass %s: %v", nc.Name, err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
