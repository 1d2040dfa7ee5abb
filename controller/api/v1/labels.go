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

// KarpenterNodePoolLabelKey is Karpenter's key for a node's pool. Every
// node with Karpenter's labels carries it: a Karpenter node, or one of a
// nodewright pool with KarpenterLabels on.
const KarpenterNodePoolLabelKey = "karpenter.sh/nodepool"

// KarpenterLabelAliases maps Karpenter's label keys to the nodewright keys
// that mean the same. nodewright's nodes carry both (KarpenterLabels), so
// workloads that select on Karpenter's keys keep matching after a
// migration, and the scheduler reads a requirement on either key as one.
// Karpenter's instance labels that nodewright does not set are absent.
var KarpenterLabelAliases = map[string]string{
	"karpenter.sh/capacity-type":                          CapacityTypeLabelKey,
	KarpenterNodePoolLabelKey:                             NodePoolLabelKey,
	"karpenter.sh/provisioner-name":                       NodePoolLabelKey,
	"karpenter.k8s.aws/ec2nodeclass":                      NodeClassLabelKey,
	"karpenter.k8s.aws/instance-category":                 InstanceCategoryLabel,
	"karpenter.k8s.aws/instance-family":                   InstanceFamilyLabel,
	"karpenter.k8s.aws/instance-generation":               InstanceGenerationLabel,
	"karpenter.k8s.aws/instance-size":                     InstanceSizeLabel,
	"karpenter.k8s.aws/instance-cpu":                      InstanceCPULabel,
	"karpenter.k8s.aws/instance-memory":                   InstanceMemoryLabel,
	"karpenter.k8s.aws/instance-gpu-count":                InstanceGPUCountLabel,
	"karpenter.k8s.aws/instance-gpu-name":                 InstanceGPUNameLabel,
	"karpenter.k8s.aws/instance-gpu-manufacturer":         InstanceGPUMfrLabel,
	"karpenter.k8s.aws/instance-hypervisor":               InstanceHypervisorLabel,
	"karpenter.k8s.aws/instance-local-nvme":               InstanceLocalNVMeLabel,
	"karpenter.k8s.aws/instance-accelerator-count":        InstanceAcceleratorCountLabel,
	"karpenter.k8s.aws/instance-accelerator-name":         InstanceAcceleratorNameLabel,
	"karpenter.k8s.aws/instance-accelerator-manufacturer": InstanceAcceleratorMfrLabel,
}

// KarpenterLabels are labels' values under Karpenter's keys for them.
func KarpenterLabels(labels map[string]string) map[string]string {
	out := map[string]string{}
	for karpenter, ours := range KarpenterLabelAliases {
		if v, ok := labels[ours]; ok {
			out[karpenter] = v
		}
	}
	return out
}

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
	// AdoptProviderIDAnnotationKey on a NodeClaim names an instance that
	// already runs (one Karpenter launched, adopted by nodewright migrate
	// --adopt): the claim takes it instead of launching one.
	AdoptProviderIDAnnotationKey = Group + "/adopt-provider-id"
	// AdoptedFromAnnotationKey on an adopted node names the Karpenter
	// NodeClaim it had.
	AdoptedFromAnnotationKey = Group + "/adopted-from"
)

// KarpenterDoNotDisruptAnnotationKeys are Karpenter's annotations that
// block voluntary disruption, which workloads and nodes that came from
// Karpenter still carry: do-not-disrupt (v1beta1 on), and before it
// do-not-evict on pods and do-not-consolidate on nodes (v1alpha5).
var KarpenterDoNotDisruptAnnotationKeys = []string{"karpenter.sh/do-not-disrupt", "karpenter.sh/do-not-evict", "karpenter.sh/do-not-consolidate"}

// DoNotDisrupt returns the do-not-disrupt annotation among annotations,
// nodewright's or one of Karpenter's, with its value; ok is false when
// there is none.
func DoNotDisrupt(annotations map[string]string) (key, value string, ok bool) {
	if v, ok := annotations[DoNotDisruptAnnotationKey]; ok {
		return DoNotDisruptAnnotationKey, v, true
	}
	for _, k := range KarpenterDoNotDisruptAnnotationKeys {
		if v, ok := annotations[k]; ok {
			return k, v, true
		}
	}
	return "", "", false
}

// UnregisteredNoExecuteTaint keeps pods off a node until it is registered.
var UnregisteredNoExecuteTaint = corev1.Taint{Key: UnregisteredTaintKey, Effect: corev1.TaintEffectNoExecute}

// EphemeralTaints are put on every new node by the cluster while it starts
// (kube-controller-manager's node lifecycle, the cloud controller manager,
// nodewright's own registration) and taken off once it is up: a node that
// has one cannot yet take the pods it was launched for, and a pending pod's
// plan should not count it against that node. Karpenter keeps the same list
// (KnownEphemeralTaints).
var EphemeralTaints = []corev1.Taint{
	{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule},
	{Key: "node.cloudprovider.kubernetes.io/uninitialized", Value: "true", Effect: corev1.TaintEffectNoSchedule},
	UnregisteredNoExecuteTaint,
}

// IsEphemeralTaint reports whether t is one of EphemeralTaints (key, value
// and effect).
func IsEphemeralTaint(t corev1.Taint) bool {
	for _, e := range EphemeralTaints {
		if e.Key == t.Key && e.Value == t.Value && e.Effect == t.Effect {
			return true
		}
	}
	return false
}

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
