package v1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeClaim is one node nodewright asked for: the request (spec) and the
// instance and Node that answered it (status).
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=nodeclaims,scope=Cluster,categories=nodewright,shortName=nc
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Type",type="string",JSONPath=".metadata.labels.node\\.kubernetes\\.io/instance-type"
// +kubebuilder:printcolumn:name="Capacity",type="string",JSONPath=".metadata.labels.nodewright\\.dev/capacity-type"
// +kubebuilder:printcolumn:name="Zone",type="string",JSONPath=".metadata.labels.topology\\.kubernetes\\.io/zone"
// +kubebuilder:printcolumn:name="Node",type="string",JSONPath=".status.nodeName"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="ProviderID",type="string",JSONPath=".status.providerID",priority=1
// +kubebuilder:printcolumn:name="NodePool",type="string",JSONPath=".metadata.labels.nodewright\\.dev/nodepool",priority=1
type NodeClaim struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable"
	// +required
	Spec NodeClaimSpec `json:"spec"`
	// +optional
	Status NodeClaimStatus `json:"status,omitempty"`
}

// NodeClaimSpec is what the node must satisfy.
type NodeClaimSpec struct {
	// Requirements the launched instance must satisfy.
	// +kubebuilder:validation:MaxItems=100
	// +listType=atomic
	// +optional
	Requirements []NodeSelectorRequirementWithMinValues `json:"requirements,omitempty"`
	// Resources the node must offer to the pods it was launched for.
	// +optional
	Resources ResourceRequirements `json:"resources,omitempty"`
	// Taints put on the node for its whole life.
	// +kubebuilder:validation:MaxItems=50
	// +listType=atomic
	// +optional
	Taints []corev1.Taint `json:"taints,omitempty"`
	// StartupTaints put on the node at launch, removed by something else.
	// +kubebuilder:validation:MaxItems=50
	// +listType=atomic
	// +optional
	StartupTaints []corev1.Taint `json:"startupTaints,omitempty"`
	// NodeClassRef names the node class used to launch the node.
	// +required
	NodeClassRef *NodeClassReference `json:"nodeClassRef"`
	// ExpireAfter deletes the NodeClaim this long after its creation,
	// whatever do-not-disrupt or disruption budgets say; "Never" keeps it.
	// +kubebuilder:default="720h"
	// +optional
	ExpireAfter NillableDuration `json:"expireAfter,omitempty"`
	// TerminationGracePeriod is a hard deadline for draining the node,
	// counted from the NodeClaim's deletion: at it the instance is
	// terminated whatever pods or volumes remain.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(s|m|h))+$`
	// +optional
	TerminationGracePeriod *metav1.Duration `json:"terminationGracePeriod,omitempty"`
}

// ResourceRequirements are the resources a NodeClaim asks for.
type ResourceRequirements struct {
	// Requests is the minimum the node's allocatable must cover.
	// +optional
	Requests corev1.ResourceList `json:"requests,omitempty"`
}

// NodeClaim condition types, in the order a healthy claim gains them.
const (
	// ConditionTypeLaunched: the cloud instance exists.
	ConditionTypeLaunched = "Launched"
	// ConditionTypeRegistered: a Node joined for the instance.
	ConditionTypeRegistered = "Registered"
	// ConditionTypeInitialized: the Node is ready, startup taints are gone
	// and its extended resources are registered.
	ConditionTypeInitialized = "Initialized"
	// ConditionTypeDrifted: the claim no longer matches its NodePool or
	// node class and will be replaced.
	ConditionTypeDrifted = "Drifted"
	// ConditionTypeConsolidatable: consolidateAfter has passed without pod
	// churn, so consolidation may consider the node.
	ConditionTypeConsolidatable = "Consolidatable"
)

// NodeClaimStatus is what was launched.
type NodeClaimStatus struct {
	// ProviderID of the instance, aws:///<zone>/<instance-id>.
	// +optional
	ProviderID string `json:"providerID,omitempty"`
	// NodeName of the Node that registered for the instance.
	// +optional
	NodeName string `json:"nodeName,omitempty"`
	// ImageID the instance was launched from.
	// +optional
	ImageID string `json:"imageID,omitempty"`
	// Capacity of the instance type.
	// +optional
	Capacity corev1.ResourceList `json:"capacity,omitempty"`
	// Allocatable is the capacity minus kubelet and system reservations.
	// +optional
	Allocatable corev1.ResourceList `json:"allocatable,omitempty"`
	// LastPodEventTime is when a pod last arrived on or left the node.
	// +optional
	LastPodEventTime metav1.Time `json:"lastPodEventTime,omitempty"`
	// Conditions: Launched, Registered, Initialized, Ready, Drifted,
	// Consolidatable.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// NodeClaimList is a list of NodeClaims.
//
// +kubebuilder:object:root=true
type NodeClaimList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NodeClaim `json:"items"`
}

// SetCondition records a condition, stamped with the claim's generation.
// The transition time only moves when the status changes. An empty reason
// becomes the condition type, since the API requires one.
func (nc *NodeClaim) SetCondition(conditionType string, status metav1.ConditionStatus, reason, message string) (changed bool) {
	if reason == "" {
		reason = conditionType
	}
	return meta.SetStatusCondition(&nc.Status.Conditions, metav1.Condition{
		Type:               conditionType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: nc.Generation,
	})
}

// GetCondition returns the condition of that type, or nil.
func (nc *NodeClaim) GetCondition(conditionType string) *metav1.Condition {
	return meta.FindStatusCondition(nc.Status.Conditions, conditionType)
}

// IsTrue reports whether the condition is present and True.
func (nc *NodeClaim) IsTrue(conditionType string) bool {
	return meta.IsStatusConditionTrue(nc.Status.Conditions, conditionType)
}
