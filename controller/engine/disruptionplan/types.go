// Package disruptionplan decides which nodes to take away, and what to launch
// in their place: emptiness, drift, and multi- and single-node
// consolidation, within each NodePool's budgets. Expiry is not a method
// here: an expired NodeClaim is deleted outright by the nodeclaim
// expiration controller, as Karpenter v1 does. It is a pure simulation over
// a snapshot of the cluster, built on the scheduling engine; it has no
// Kubernetes or AWS client, so a pass over thousands of nodes can be tested
// and benchmarked in-process. The disruption controller builds the
// snapshot, validates the decision after a delay, and carries it out.
package disruptionplan

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// Method is how a decision was reached. Methods are tried in this order.
type Method string

const (
	MethodEmptiness               Method = "Emptiness"
	MethodDrift                   Method = "Drift"
	MethodMultiNodeConsolidation  Method = "MultiNodeConsolidation"
	MethodSingleNodeConsolidation Method = "SingleNodeConsolidation"
)

// Node is one node of the snapshot with what disruption needs to know of
// it. Nodes without a NodePool (not ours) are capacity only, never
// candidates.
type Node struct {
	scheduling.ExistingNode
	// NodeClaim names the node's claim; empty when the node is not ours.
	NodeClaim    string
	InstanceType string
	Zone         string
	CapacityType string
	// Price is the $/h of the node's current offering.
	Price float64
	// Created is when the NodeClaim was created.
	Created time.Time
	// LastPodEvent is when a pod last came to or left the node (zero: never).
	LastPodEvent time.Time
	// Initialized: the node is Ready and its startup taints are gone.
	Initialized bool
	// Drifted is why the claim drifted, or "" when it has not.
	Drifted string
	// Deleting: the claim is being deleted or already chosen for
	// disruption; it is not a candidate and counts against budgets.
	Deleting bool
	// DoNotDisrupt: the node carries the nodewright.dev/do-not-disrupt
	// annotation.
	DoNotDisrupt bool
}

// Pool is a NodePool: its spec (policy, consolidateAfter, budgets) and its scheduling view (instance types, limits).
type Pool struct {
	NodePool   *v1.NodePool
	Scheduling *scheduling.NodePool
}

// Snapshot is the cluster as one disruption pass sees it.
type Snapshot struct {
	Now   time.Time
	Nodes []*Node
	Pools []*Pool
	// DaemonSets are daemonset pod templates (their overhead lands on any
	// replacement).
	DaemonSets []*corev1.Pod
	PDBs       []*policyv1.PodDisruptionBudget
	// PodsElsewhere are pods on nodes outside the snapshot's nodes that
	// count for topology spread and affinity.
	PodsElsewhere []scheduling.PodOnDomain
	// VolumeRequirements are the node requirements of the pods' claims
	// (scheduling.Input.VolumeRequirements): a pod moves only where its
	// volumes can follow.
	VolumeRequirements map[string][]corev1.NodeSelectorRequirement
	// VolumeDrivers: scheduling.Input.VolumeDrivers, so a pod moves only
	// onto a node that can attach its volumes.
	VolumeDrivers map[string]string
	// NamespaceLabels are the namespaces' labels, by name
	// (scheduling.Input.NamespaceLabels).
	NamespaceLabels map[string]map[string]string
}

// Options tune a pass.
type Options struct {
	// SpotToSpotMinTypes is the fewest instance types a spot-to-spot
	// replacement must keep among its options (default 15).
	SpotToSpotMinTypes int
	// Methods, when set, limits the pass to these methods (tests, and
	// `nodewright simulate --consolidate`).
	Methods []Method
}

// Decision is one disruption: remove Candidates and launch Replacements
// (zero or one for consolidation; as many as the candidates' pods need for
// drift).
type Decision struct {
	Method Method
	// Reason is the budget reason (Empty, Underutilized, Drifted).
	Reason       v1.DisruptionReason
	Candidates   []*Node
	Replacements []*scheduling.NodeClaimPlan
	// Savings is the $/h saved: the candidates' price minus the
	// replacements' (negative for drift is allowed).
	Savings float64
	// PodsMoved counts the reschedulable pods on the candidates.
	PodsMoved int
	// Placements are the pods that move onto existing nodes, as the
	// simulation placed them.
	Placements []*scheduling.ExistingPlacement
	// Unschedulable are pods the simulation found no home for.
	Unschedulable []*scheduling.Unschedulable
	// Message says what and why, for events and logs, e.g.
	// "Underutilized: replacing m5.2xlarge (on-demand, $0.384/h) with
	// m5.large (spot, $0.041/h); 4 pods move".
	Message string
}

// Blocked says why a node is not a candidate, for events and tests.
type Blocked struct {
	Node   string
	Reason string
}

// SkippedPool is a NodePool a pass left alone because its budgets cannot
// be evaluated: none of its nodes is a candidate, and no replacement is
// launched into it.
type SkippedPool struct {
	NodePool string
	Reason   string
}

// Result is what a pass decided.
type Result struct {
	// Skipped pools, by name order; the other pools are disrupted as usual.
	Skipped []SkippedPool
	// Decisions hold the pass's action: at most one decision, except that
	// emptiness may remove many nodes (one decision per pool).
	Decisions []*Decision
	// Blocked lists the nodes that were not candidates, and why.
	Blocked []Blocked
	// OverLimit are decisions set aside because their replacements would
	// take a NodePool past spec.limits.
	OverLimit []OverLimit
	// NextCheck, when non-zero, is the earliest time a currently blocked
	// candidate may become eligible (consolidateAfter, a do-not-disrupt
	// duration or a budget window ending).
	NextCheck time.Time
	// WhatIfs counts the scheduling simulations the pass ran.
	WhatIfs int
}

// Objects are the API objects a snapshot is built from, as the disruption
// controller lists them (or `nodewright simulate` reads them from files).
type Objects struct {
	Now        time.Time
	Nodes      []*corev1.Node
	NodeClaims []*v1.NodeClaim
	NodePools  []*v1.NodePool
	// InstanceTypes are each NodePool's instance types with offerings and
	// prices, by NodePool name; they price the nodes and the replacements.
	InstanceTypes map[string][]*scheduling.InstanceType
	// NodeVolumes are the $/h of each NodePool's per-node volumes, by
	// NodePool name (scheduling.NodeCost.Volumes).
	NodeVolumes map[string]float64
	// Pods are all pods; bound ones belong to the node named by spec.nodeName.
	Pods       []*corev1.Pod
	DaemonSets []*appsv1.DaemonSet
	PDBs       []*policyv1.PodDisruptionBudget
	// VolumeRequirements, VolumeDrivers and NamespaceLabels: as Snapshot's.
	VolumeRequirements map[string][]corev1.NodeSelectorRequirement
	VolumeDrivers      map[string]string
	NamespaceLabels    map[string]map[string]string
	// AdoptLabelledNodes treats a node without a NodeClaim but labelled
	// with a NodePool as the pool's own (offline simulation of a cluster
	// dumped with `kubectl get nodes`): its claim is named after the node,
	// created with it, and initialized once the node is Ready.
	AdoptLabelledNodes bool
}
