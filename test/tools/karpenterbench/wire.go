package main

import (
	corev1 "k8s.io/api/core/v1"
)

// The wire format shared with the root module's test/benchvs package. It is
// declared twice on purpose: this module must never enter the root go.mod,
// and the root module must not import Karpenter. Keys are nodewright's
// (nodewright.dev/capacity-type ...); translation to Karpenter's happens here.

// Input is one scheduling problem.
type Input struct {
	InstanceTypes []InstanceType `json:"instanceTypes"`
	NodePools     []NodePool     `json:"nodePools"`
	// DaemonSets are daemonset pod templates.
	DaemonSets []*corev1.Pod `json:"daemonSets"`
	Pods       []*corev1.Pod `json:"pods"`
}

// InstanceType is a type every pool may launch (pools narrow it with their
// requirements). Allocatable is what pods may use.
type InstanceType struct {
	Name        string              `json:"name"`
	Labels      map[string]string   `json:"labels"`
	Allocatable corev1.ResourceList `json:"allocatable"`
	Offerings   []Offering          `json:"offerings"`
}

// Offering is one zone and capacity type of an instance type.
type Offering struct {
	Zone         string  `json:"zone"`
	CapacityType string  `json:"capacityType"`
	Price        float64 `json:"price"`
	Available    bool    `json:"available"`
}

// NodePool is a pool's template. Limits are optional (absent: unlimited).
type NodePool struct {
	Name         string              `json:"name"`
	Weight       int32               `json:"weight"`
	Requirements []Requirement       `json:"requirements"`
	Labels       map[string]string   `json:"labels"`
	Taints       []corev1.Taint      `json:"taints"`
	Limits       corev1.ResourceList `json:"limits,omitempty"`
}

// Requirement is a node selector requirement; MinValues is optional.
type Requirement struct {
	Key       string                      `json:"key"`
	Operator  corev1.NodeSelectorOperator `json:"operator"`
	Values    []string                    `json:"values,omitempty"`
	MinValues *int                        `json:"minValues,omitempty"`
}

// Plan is Karpenter's answer.
type Plan struct {
	// SolveSeconds times Scheduler.Solve alone.
	SolveSeconds float64 `json:"solveSeconds"`
	// SetupSeconds times NewTopology and NewScheduler, which Karpenter's
	// provisioner also runs on every scheduling loop.
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
	// Requirements on zone, capacity type and arch, in nodewright's keys.
	Requirements []Requirement `json:"requirements"`
	// Pods are "namespace/name".
	Pods []string `json:"pods"`
	// Price is the cheapest available offering among the options that the
	// requirements allow: the $/h Karpenter would launch at if it got it.
	Price float64 `json:"price"`
}

// ExistingNode lists pods Karpenter put on a node that already exists.
type ExistingNode struct {
	Node string   `json:"node"`
	Pods []string `json:"pods"`
}

// Unschedulable is a pod Karpenter could not place.
type Unschedulable struct {
	Pod    string `json:"pod"`
	Reason string `json:"reason"`
}
