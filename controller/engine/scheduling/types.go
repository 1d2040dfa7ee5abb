// Package scheduling decides which instances to launch for pods that
// kube-scheduler cannot place. It is a pure simulation: given pending pods,
// existing nodes, daemonsets and NodePools with their instance-type
// offerings, Solve returns a deterministic plan (pods onto existing
// capacity, new NodeClaims with price-ranked offerings, and the pods that
// fit nowhere, each with a reason). It has no Kubernetes or AWS client.
package scheduling

import (
	corev1 "k8s.io/api/core/v1"
)

// Offering is one purchasable pool of an instance type.
type Offering struct {
	Zone         string  `json:"zone"`
	CapacityType string  `json:"capacityType"`
	Price        float64 `json:"price"`
	Available    bool    `json:"available"`
}

// InstanceType is what a NodePool can launch. Allocatable is what pods may
// use, after kubelet reservations and VM overhead; daemonset overhead is
// subtracted by the engine.
type InstanceType struct {
	Name string
	// Labels are the instance type's well-known labels (arch, os, family,
	// ...). Zone and capacity type come from the offerings.
	Labels      map[string]string
	Allocatable corev1.ResourceList
	Offerings   []Offering
	// Burst is set for burstable types (t2, t3, t3a, t4g): CPU requested
	// above their baseline is paid for as surplus credits.
	Burst *Burst
}

// NodePool is a NodePool as the engine sees it: its template, limits and
// the instance types its NodeClass resolves to.
type NodePool struct {
	Name   string
	Weight int32
	// Requirements narrow the instance types, zones and capacity types.
	Requirements []corev1.NodeSelectorRequirement
	// MinValues per requirement key: at least this many distinct values
	// must remain among a node's instance-type options.
	MinValues map[string]int
	// Labels are the template's labels, set on every node.
	Labels map[string]string
	// Taints must be tolerated; startup taints are not listed here.
	Taints []corev1.Taint
	// Limits cap the pool's total resources ("nodes" counts nodes).
	Limits corev1.ResourceList
	// InUse is what the pool's existing nodes already consume toward limits.
	InUse         corev1.ResourceList
	InstanceTypes []*InstanceType
	// NodeCost is what each of the pool's nodes costs beyond its instance.
	NodeCost NodeCost
	// NoKarpenterLabels: the pool's nodes do not carry Karpenter's label
	// keys (its KarpenterLabels is off), so pods that select on them do not
	// go there.
	NoKarpenterLabels bool
}

// ExistingNode is a node (or an in-flight NodeClaim) that pods may use.
type ExistingNode struct {
	Name        string
	Labels      map[string]string
	Taints      []corev1.Taint
	Allocatable corev1.ResourceList
	// Pods already bound to the node; their requests are used, and they
	// count toward topology spread and (anti-)affinity.
	Pods []*corev1.Pod
	// NodePool that owns the node, if any.
	NodePool string
}

// Input is everything one solve considers.
type Input struct {
	Pods       []*corev1.Pod
	Nodes      []*ExistingNode
	DaemonSets []*corev1.Pod // daemonset pod templates
	NodePools  []*NodePool
	// VolumeRequirements maps "namespace/claim" to the node requirements of
	// the claim's bound volume (typically a zone).
	VolumeRequirements map[string][]corev1.NodeSelectorRequirement
	// VolumeDrivers maps "namespace/claim" to the CSI driver that attaches
	// the claim's volume. A pod counts each such claim against the node's
	// attach limit for the driver (resources.AttachLimit in its
	// allocatable); a node that gives none has no limit.
	VolumeDrivers map[string]string
	// PodsElsewhere are running pods on nodes that can't take new pods; they
	// still count for topology spread and (anti-)affinity.
	PodsElsewhere []PodOnDomain
	// Waiting are pods kept out of the solve for a reason outside it (their
	// volumes cannot be read or bound yet); the plan reports them as
	// unschedulable with that reason.
	Waiting []*Unschedulable
	// NamespaceLabels are the labels of the pods' namespaces, by name, for
	// pod affinity terms with a namespaceSelector. A namespace left out is
	// known by its kubernetes.io/metadata.name label only.
	NamespaceLabels map[string]map[string]string
}

// PodOnDomain is a pod with the labels of the node it runs on.
type PodOnDomain struct {
	Pod        *corev1.Pod
	NodeLabels map[string]string
}

// Result is the plan.
type Result struct {
	ExistingNodes []*ExistingPlacement
	NodeClaims    []*NodeClaimPlan
	Unschedulable []*Unschedulable
	// Order lists the placed pods in the order the plan placed them: bound
	// in that order, each lands where the plan put it, since every
	// placement was checked against the ones before it.
	Order []*corev1.Pod
	// TotalPrice is the true $/hour of the new NodeClaims (Cost.Total()).
	TotalPrice float64
	// Cost is the new NodeClaims' true cost by part.
	Cost Cost
}

// ExistingPlacement lists the pods that go to an existing node.
type ExistingPlacement struct {
	Node string
	Pods []*corev1.Pod
}

// NodeClaimPlan is a node to launch.
type NodeClaimPlan struct {
	NodePool string
	Pods     []*corev1.Pod
	// Requirements are the pool's requirements narrowed by the pods'.
	Requirements Requirements
	// Taints are the pool's, which the node registers with.
	Taints []corev1.Taint
	// Requests sums the pods' and daemonsets' requests.
	Requests corev1.ResourceList
	// Options are the compatible offerings that fit, cheapest first; the
	// first is the plan's choice.
	Options []Option
	// InstanceTypes counts the distinct instance types that fit.
	InstanceTypes int
}

// Option is an instance type offering a NodeClaim may launch.
type Option struct {
	InstanceType *InstanceType
	Offering     Offering
	// Cost is the node's true cost on this offering, with the plan's pods.
	Cost Cost
}

// Chosen is the offering the plan prices the node at.
func (n *NodeClaimPlan) Chosen() Option { return n.Options[0] }

// Unschedulable is a pod the plan cannot place, with the precise reason.
type Unschedulable struct {
	Pod    *corev1.Pod
	Reason string
}
