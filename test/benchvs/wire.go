// Package benchvs compares nodewright's scheduling engine with Karpenter's:
// it writes a scheduling.Input in the wire format that
// test/tools/karpenterbench reads, runs that binary (Karpenter core's own
// scheduler, built in its own module so Karpenter never enters this go.mod)
// and reads back Karpenter's plan.
package benchvs

import (
	corev1 "k8s.io/api/core/v1"
)

// The wire format; test/tools/karpenterbench/wire.go declares the same
// types on the other side. Label keys are nodewright's: the binary
// translates nodewright.dev/capacity-type (and nodepool, registered,
// initialized) to Karpenter's karpenter.sh keys and back.

// WireInput is one scheduling problem.
type WireInput struct {
	InstanceTypes []WireInstanceType `json:"instanceTypes"`
	NodePools     []WireNodePool     `json:"nodePools"`
	DaemonSets    []*corev1.Pod      `json:"daemonSets"`
	Pods          []*corev1.Pod      `json:"pods"`
}

// WireInstanceType is written once however many pools share it; a pool
// that may launch only some of the catalog says so with a
// node.kubernetes.io/instance-type requirement.
type WireInstanceType struct {
	Name        string              `json:"name"`
	Labels      map[string]string   `json:"labels"`
	Allocatable corev1.ResourceList `json:"allocatable"`
	Offerings   []WireOffering      `json:"offerings"`
}

// WireOffering is one zone and capacity type of an instance type.
type WireOffering struct {
	Zone         string  `json:"zone"`
	CapacityType string  `json:"capacityType"`
	Price        float64 `json:"price"`
	Available    bool    `json:"available"`
}

// WireNodePool is a pool's template. Limits are what the pool may still
// launch (absent: unlimited).
type WireNodePool struct {
	Name         string              `json:"name"`
	Weight       int32               `json:"weight"`
	Requirements []Requirement       `json:"requirements"`
	Labels       map[string]string   `json:"labels"`
	Taints       []corev1.Taint      `json:"taints"`
	Limits       corev1.ResourceList `json:"limits,omitempty"`
}

// Requirement is a node selector requirement with optional minValues.
type Requirement struct {
	Key       string                      `json:"key"`
	Operator  corev1.NodeSelectorOperator `json:"operator"`
	Values    []string                    `json:"values,omitempty"`
	MinValues *int                        `json:"minValues,omitempty"`
}

// Plan is Karpenter's answer.
type Plan struct {
	// SolveSeconds times Karpenter's Scheduler.Solve alone.
	SolveSeconds float64 `json:"solveSeconds"`
	// SetupSeconds times building its topology and scheduler.
	SetupSeconds  float64         `json:"setupSeconds"`
	NodeClaims    []NodeClaim     `json:"nodeClaims"`
	ExistingNodes []ExistingNode  `json:"existingNodes"`
	Unschedulable []Unschedulable `json:"unschedulable"`
}

// NodeClaim is a node Karpenter would launch.
type NodeClaim struct {
	NodePool string `json:"nodePool"`
	// InstanceTypes are all the claim's options, cheapest first.
	InstanceTypes []string `json:"instanceTypes"`
	// Requirements on zone, capacity type and arch (nodewright's keys).
	Requirements []Requirement `json:"requirements"`
	// Pods are "namespace/name".
	Pods []string `json:"pods"`
	// Price is the cheapest available offering of the options that the
	// requirements allow ($/h).
	Price float64 `json:"price"`
}

// ExistingNode lists the pods Karpenter put on a node that exists.
type ExistingNode struct {
	Node string   `json:"node"`
	Pods []string `json:"pods"`
}

// Unschedulable is a pod Karpenter could not place, with its reason.
type Unschedulable struct {
	Pod    string `json:"pod"`
	Reason string `json:"reason"`
}

// InstancePrice sums the claims' prices ($/h).
func (p *Plan) InstancePrice() float64 {
	var sum float64
	for _, nc := range p.NodeClaims {
		sum += nc.Price
	}
	return sum
}
