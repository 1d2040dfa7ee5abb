package v1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Group is the API group of every nodewright resource, and the domain of
// its labels, annotations and taints.
const Group = "nodewright.dev"

// Labels nodewright sets on the nodes it launches and that NodePool
// requirements may select on.
const (
	CapacityTypeLabelKey    = Group + "/capacity-type"
	NodePoolLabelKey        = Group + "/nodepool"
	NodeClassLabelKey       = Group + "/ec2nodeclass"
	InstanceCategoryLabel   = Group + "/instance-category"
	InstanceFamilyLabel     = Group + "/instance-family"
	InstanceGenerationLabel = Group + "/instance-generation"
	InstanceSizeLabel       = Group + "/instance-size"
	InstanceCPULabel        = Group + "/instance-cpu"
	InstanceMemoryLabel     = Group + "/instance-memory"
	InstanceGPUCountLabel   = Group + "/instance-gpu-count"
	InstanceGPUNameLabel    = Group + "/instance-gpu-name"
	InstanceGPUMfrLabel     = Group + "/instance-gpu-manufacturer"
	InstanceHypervisorLabel = Group + "/instance-hypervisor"
	InstanceLocalNVMeLabel  = Group + "/instance-local-nvme"
	// The accelerators that are not GPUs: AWS Inferentia and Trainium.
	InstanceAcceleratorCountLabel = Group + "/instance-accelerator-count"
	InstanceAcceleratorNameLabel  = Group + "/instance-accelerator-name"
	InstanceAcceleratorMfrLabel   = Group + "/instance-accelerator-manufacturer"

	// NodeInitializedLabelKey marks nodes whose NodeClaim is Initialized.
	NodeInitializedLabelKey = Group + "/initialized"
	// NodeRegisteredLabelKey marks nodes that registered for a NodeClaim.
	NodeRegisteredLabelKey = Group + "/registered"
)

// Capacity types.
const (
	CapacityTypeSpot     = "spot"
	CapacityTypeOnDemand = "on-demand"
)

// Annotations and taints.
const (
	// DoNotDisruptAnnotationKey on a pod or node blocks voluntary disruption.
	DoNotDisruptAnnotationKey = Group + "/do-not-disrupt"
	// UnregisteredTaintKey is put on nodes at launch (via kubelet flags) and
	// removed once nodewright has registered the node.
	UnregisteredTaintKey = Group + "/unregistered"
	// DisruptedTaintKey cordons a node that is being drained.
	DisruptedTaintKey = Group + "/disrupted"
	// TerminationFinalizer guards NodeClaims and Nodes until their instance is gone.
	TerminationFinalizer = Group + "/termination"
	// SubnetIDAnnotationKey on a NodeClaim records the subnet its instance
	// was launched into, so a node class that stops selecting it is drift.
	SubnetIDAnnotationKey = Group + "/subnet-id"
	// SecurityGroupIDsAnnotationKey on a NodeClaim records its instance's
	// security groups, sorted and comma-separated.
	SecurityGroupIDsAnnotationKey = Group + "/security-group-ids"
	// InstanceTerminatedAnnotationKey on a NodeClaim records that its Node's
	// termination already terminated the instance, so the claim's own
	// finalizer does not call TerminateInstances a second time.
	InstanceTerminatedAnnotationKey = Group + "/instance-terminated"
)

// UnregisteredNoExecuteTaint keeps pods off a node until it is registered.
var UnregisteredNoExecuteTaint = corev1.Taint{Key: UnregisteredTaintKey, Effect: corev1.TaintEffectNoExecute}

// DisruptedNoScheduleTaint is the taint of a node being drained.
var DisruptedNoScheduleTaint = corev1.Taint{Key: DisruptedTaintKey, Effect: corev1.TaintEffectNoSchedule}

// WellKnownLabels may be used in NodePool requirements; nodewright knows
// their value for every instance-type offering before launch.
var WellKnownLabels = sets.New(
	CapacityTypeLabelKey, NodePoolLabelKey,
	InstanceCategoryLabel, InstanceFamilyLabel, InstanceGenerationLabel, InstanceSizeLabel,
	InstanceCPULabel, InstanceMemoryLabel, InstanceGPUCountLabel, InstanceGPUNameLabel,
	InstanceGPUMfrLabel, InstanceHypervisorLabel, InstanceLocalNVMeLabel,
	InstanceAcceleratorCountLabel, InstanceAcceleratorNameLabel, InstanceAcceleratorMfrLabel,
	corev1.LabelInstanceTypeStable, corev1.LabelTopologyZone, corev1.LabelTopologyRegion,
	corev1.LabelArchStable, corev1.LabelOSStable,
)

// RestrictedLabels can't appear in NodePool requirements or template labels:
// nodewright or kubelet owns them.
var RestrictedLabels = sets.New(NodePoolLabelKey, corev1.LabelHostname, NodeInitializedLabelKey, NodeRegisteredLabelKey)
