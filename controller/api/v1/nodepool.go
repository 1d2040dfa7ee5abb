package v1

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodePool condition types; Ready (ConditionTypeReady) is True when both are.
const (
	// ConditionTypeNodeClassReady: the EC2NodeClass the pool names exists,
	// is not being deleted and is Ready, so the pool can launch nodes.
	ConditionTypeNodeClassReady = "NodeClassReady"
	// ConditionTypeDisruptionBudgetsValid: every disruption budget's nodes
	// and schedule parse, so disruption can weigh the pool's nodes.
	ConditionTypeDisruptionBudgetsValid = "DisruptionBudgetsValid"
)

// Reasons a NodePool cannot use its node class, for the NodeClassReady
// condition and the events of pods only such a pool could serve.
const (
	ReasonNodeClassNotFound = "NodeClassNotFound"
	ReasonNodeClassDeleting = "NodeClassDeleting"
	ReasonNodeClassNotReady = "NodeClassNotReady"
	// ReasonInvalidBudget: a disruption budget does not parse.
	ReasonInvalidBudget = "InvalidBudget"
)

// NodePool describes a family of nodes nodewright may launch for pending
// pods, and how and when it may take them away again.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=nodepools,scope=Cluster,categories=nodewright,shortName=np
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="NodeClass",type="string",JSONPath=".spec.template.spec.nodeClassRef.name"
// +kubebuilder:printcolumn:name="Nodes",type="integer",JSONPath=".status.nodes"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
// +kubebuilder:printcolumn:name="Weight",type="integer",JSONPath=".spec.weight",priority=1
// +kubebuilder:printcolumn:name="CPU",type="string",JSONPath=".status.resources.cpu",priority=1
// +kubebuilder:printcolumn:name="Memory",type="string",JSONPath=".status.resources.memory",priority=1
type NodePool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec NodePoolSpec `json:"spec"`
	// +optional
	Status NodePoolStatus `json:"status,omitempty"`
}

// NodePoolSpec is the desired shape of a NodePool's nodes.
type NodePoolSpec struct {
	// Template is stamped onto every NodeClaim (and so Node) of the pool.
	// +required
	Template NodeClaimTemplate `json:"template"`
	// Disruption says when nodewright may remove or replace the pool's nodes.
	// +kubebuilder:default={}
	// +optional
	Disruption Disruption `json:"disruption"`
	// Limits cap the resources (cpu, memory, nodes, or any other resource)
	// the pool's nodes may add up to; launches stop at the limit.
	// +optional
	Limits corev1.ResourceList `json:"limits,omitempty"`
	// Weight orders pools: higher weights are tried first.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	Weight *int32 `json:"weight,omitempty"`
	// CostPerNodeHour is what each of the pool's nodes costs on top of its
	// instance and volumes, in US dollars per node per hour: per-host
	// licences of monitoring or security agents, say. Nodewright adds it to
	// every node's price when it chooses, packs and consolidates nodes, so
	// a pool with it favours fewer, larger nodes. A plain non-negative
	// decimal such as "0.012" (a string: Kubernetes APIs avoid floats).
	// Changing it does not make existing nodes drift.
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^[0-9]+([.][0-9]+)?$`
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[0-9]+([.][0-9]+)?$')`,message="costPerNodeHour must be a non-negative decimal number of US dollars per node per hour, such as \"0.012\": no sign, exponent or unit"
	// +optional
	CostPerNodeHour string `json:"costPerNodeHour,omitempty"`
	// KarpenterLabels puts Karpenter's keys for nodewright's labels
	// (karpenter.sh/nodepool, karpenter.sh/capacity-type,
	// karpenter.k8s.aws/instance-family and the rest) on the pool's nodes
	// beside nodewright's, so that workloads written for Karpenter keep
	// matching. With it off, pods that require a Karpenter key do not go
	// to the pool's nodes. It applies to nodes registered after a change.
	// +kubebuilder:default=true
	// +optional
	KarpenterLabels *bool `json:"karpenterLabels,omitempty"`
}

// KarpenterLabelsEnabled says whether the pool's nodes carry Karpenter's
// label keys: unless KarpenterLabels is false.
func (s *NodePoolSpec) KarpenterLabelsEnabled() bool {
	return s.KarpenterLabels == nil || *s.KarpenterLabels
}

// NodeClaimTemplate is the part of a NodeClaim a NodePool decides.
type NodeClaimTemplate struct {
	// +optional
	ObjectMeta NodeClaimTemplateObjectMeta `json:"metadata,omitempty"`
	// +required
	Spec NodeClaimTemplateSpec `json:"spec"`
}

// NodeClaimTemplateObjectMeta holds the labels and annotations put on nodes.
type NodeClaimTemplateObjectMeta struct {
	// Labels are added to every node; they also act as requirements.
	// +kubebuilder:validation:MaxProperties=100
	// +kubebuilder:validation:XValidation:rule=`self.all(k, !(k in ['nodewright.dev/nodepool', 'kubernetes.io/hostname', 'nodewright.dev/initialized', 'nodewright.dev/registered']))`,message="labels nodewright.dev/nodepool, kubernetes.io/hostname, nodewright.dev/initialized and nodewright.dev/registered are restricted: nodewright or the kubelet sets them"
	// +kubebuilder:validation:XValidation:rule=`self.all(k, !k.matches('^([^/]+[.])?nodewright[.]dev/') || k in ['nodewright.dev/capacity-type', 'nodewright.dev/instance-category', 'nodewright.dev/instance-family', 'nodewright.dev/instance-generation', 'nodewright.dev/instance-size', 'nodewright.dev/instance-cpu', 'nodewright.dev/instance-memory', 'nodewright.dev/instance-gpu-count', 'nodewright.dev/instance-gpu-name', 'nodewright.dev/instance-gpu-manufacturer', 'nodewright.dev/instance-hypervisor', 'nodewright.dev/instance-local-nvme', 'nodewright.dev/instance-accelerator-count', 'nodewright.dev/instance-accelerator-name', 'nodewright.dev/instance-accelerator-manufacturer'])`,message="the nodewright.dev label domain is reserved: only nodewright's well-known labels may be used"
	// +kubebuilder:validation:XValidation:rule=`self.all(k, k.size() <= 316 && k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$'))`,message="label keys must be qualified names, like example.com/team"
	// Value format is left to the Node API: a regex over every value costs
	// more than the apiserver's CEL budget allows for an unbounded map.
	// +kubebuilder:validation:XValidation:rule=`self.all(k, self[k].size() <= 63)`,message="label values must be at most 63 characters"
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations are added to every node.
	// +kubebuilder:validation:MaxProperties=100
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// NodeClaimTemplateSpec is the NodeClaim spec a NodePool stamps out.
type NodeClaimTemplateSpec struct {
	// Requirements narrow the instance types, zones, capacity types and any
	// other label of the nodes the pool may launch.
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:XValidation:rule=`self.all(r, !(r.key in ['nodewright.dev/nodepool', 'kubernetes.io/hostname', 'nodewright.dev/initialized', 'nodewright.dev/registered']))`,message="requirement keys nodewright.dev/nodepool, kubernetes.io/hostname, nodewright.dev/initialized and nodewright.dev/registered are restricted: nodewright or the kubelet sets them"
	// +kubebuilder:validation:XValidation:rule=`self.all(r, !r.key.matches('^([^/]+[.])?nodewright[.]dev/') || r.key in ['nodewright.dev/capacity-type', 'nodewright.dev/instance-category', 'nodewright.dev/instance-family', 'nodewright.dev/instance-generation', 'nodewright.dev/instance-size', 'nodewright.dev/instance-cpu', 'nodewright.dev/instance-memory', 'nodewright.dev/instance-gpu-count', 'nodewright.dev/instance-gpu-name', 'nodewright.dev/instance-gpu-manufacturer', 'nodewright.dev/instance-hypervisor', 'nodewright.dev/instance-local-nvme', 'nodewright.dev/instance-accelerator-count', 'nodewright.dev/instance-accelerator-name', 'nodewright.dev/instance-accelerator-manufacturer'])`,message="the nodewright.dev label domain is reserved: only nodewright's well-known labels may be used in requirements"
	// +listType=atomic
	// +optional
	Requirements []NodeSelectorRequirementWithMinValues `json:"requirements,omitempty"`
	// Taints are put on every node for its whole life.
	// +kubebuilder:validation:MaxItems=50
	// +listType=atomic
	// +optional
	Taints []corev1.Taint `json:"taints,omitempty"`
	// StartupTaints are put on nodes at launch and expected to be removed by
	// something else (a CNI or a device plugin); pods aren't expected to
	// tolerate them.
	// +kubebuilder:validation:MaxItems=50
	// +listType=atomic
	// +optional
	StartupTaints []corev1.Taint `json:"startupTaints,omitempty"`
	// NodeClassRef names the node class that says how to launch the nodes.
	// +required
	NodeClassRef *NodeClassReference `json:"nodeClassRef"`
	// ExpireAfter deletes a node's NodeClaim this long after its creation,
	// whatever do-not-disrupt or disruption budgets say, and a replacement
	// is launched for its pods; "Never" keeps nodes.
	// +kubebuilder:default="720h"
	// +optional
	ExpireAfter NillableDuration `json:"expireAfter,omitempty"`
	// TerminationGracePeriod is a hard deadline for draining a node, counted
	// from its NodeClaim's deletion: pods are deleted regardless of
	// disruption budgets so that they stop by then, and at the deadline the
	// instance is terminated whatever pods or volumes remain.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(s|m|h))+$`
	// +optional
	TerminationGracePeriod *metav1.Duration `json:"terminationGracePeriod,omitempty"`
}

// ConsolidationPolicy says which nodes consolidation may remove.
// +kubebuilder:validation:Enum=WhenEmpty;WhenEmptyOrUnderutilized
type ConsolidationPolicy string

// Consolidation policies.
const (
	ConsolidationPolicyWhenEmpty                = ConsolidationPolicy("WhenEmpty")
	ConsolidationPolicyWhenEmptyOrUnderutilized = ConsolidationPolicy("WhenEmptyOrUnderutilized")
)

// DisruptionReason is why a node is disrupted; budgets may apply to some only.
// +kubebuilder:validation:Enum=Empty;Underutilized;Drifted
type DisruptionReason string

// Disruption reasons.
const (
	DisruptionReasonEmpty         = DisruptionReason("Empty")
	DisruptionReasonUnderutilized = DisruptionReason("Underutilized")
	DisruptionReasonDrifted       = DisruptionReason("Drifted")
)

// Disruption configures voluntary disruption of a pool's nodes.
type Disruption struct {
	// ConsolidationPolicy: WhenEmpty removes only nodes without workload
	// pods; WhenEmptyOrUnderutilized also replaces or removes nodes whose
	// pods fit elsewhere more cheaply.
	// +kubebuilder:default=WhenEmptyOrUnderutilized
	// +optional
	ConsolidationPolicy ConsolidationPolicy `json:"consolidationPolicy,omitempty"`
	// ConsolidateAfter is how long a node must have seen no pod arrive or
	// leave before consolidation considers it; "Never" disables consolidation.
	// +kubebuilder:default="0s"
	// +optional
	ConsolidateAfter NillableDuration `json:"consolidateAfter,omitempty"`
	// Budgets limit how many nodes may be disrupted at once. The most
	// restrictive active budget wins.
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:default={{nodes: "10%"}}
	// +listType=atomic
	// +optional
	Budgets []Budget `json:"budgets,omitempty"`
}

// Budget limits concurrent disruptions, always or during a recurring window.
//
// +kubebuilder:validation:XValidation:rule="!has(self.schedule) || self.schedule.replace(' ', ',').split(',').all(i, i.split('/')[0].split('-').size() != 2 || (i.split('/')[0].split('-')[0].matches('^0*[0-9]{1,3}$') ? int(i.split('/')[0].split('-')[0]) : (i.split('/')[0].split('-')[0].lowerAscii() in {'jan': 1, 'feb': 2, 'mar': 3, 'apr': 4, 'may': 5, 'jun': 6, 'jul': 7, 'aug': 8, 'sep': 9, 'oct': 10, 'nov': 11, 'dec': 12, 'sun': 0, 'mon': 1, 'tue': 2, 'wed': 3, 'thu': 4, 'fri': 5, 'sat': 6} ? {'jan': 1, 'feb': 2, 'mar': 3, 'apr': 4, 'may': 5, 'jun': 6, 'jul': 7, 'aug': 8, 'sep': 9, 'oct': 10, 'nov': 11, 'dec': 12, 'sun': 0, 'mon': 1, 'tue': 2, 'wed': 3, 'thu': 4, 'fri': 5, 'sat': 6}[i.split('/')[0].split('-')[0].lowerAscii()] : -1)) <= (i.split('/')[0].split('-')[1].matches('^0*[0-9]{1,3}$') ? int(i.split('/')[0].split('-')[1]) : (i.split('/')[0].split('-')[1].lowerAscii() in {'jan': 1, 'feb': 2, 'mar': 3, 'apr': 4, 'may': 5, 'jun': 6, 'jul': 7, 'aug': 8, 'sep': 9, 'oct': 10, 'nov': 11, 'dec': 12, 'sun': 0, 'mon': 1, 'tue': 2, 'wed': 3, 'thu': 4, 'fri': 5, 'sat': 6} ? {'jan': 1, 'feb': 2, 'mar': 3, 'apr': 4, 'may': 5, 'jun': 6, 'jul': 7, 'aug': 8, 'sep': 9, 'oct': 10, 'nov': 11, 'dec': 12, 'sun': 0, 'mon': 1, 'tue': 2, 'wed': 3, 'thu': 4, 'fri': 5, 'sat': 6}[i.split('/')[0].split('-')[1].lowerAscii()] : 99)))",message="a budget schedule has a range that runs backwards (such as 5-3 or fri-mon); write its low end first"
// +kubebuilder:validation:XValidation:rule="has(self.schedule) == has(self.duration)",message="a budget schedule needs a duration, and a duration needs a schedule"
type Budget struct {
	// Reasons the budget applies to; all reasons when empty.
	// +kubebuilder:validation:MaxItems=3
	// +listType=set
	// +optional
	Reasons []DisruptionReason `json:"reasons,omitempty"`
	// Nodes is how many of the pool's nodes may be disrupted at once: a count
	// ("3") or a percentage of the pool ("10%", rounded up).
	// +kubebuilder:validation:Pattern=`^((100|[0-9]{1,2})%|[0-9]+)$`
	// +kubebuilder:validation:MaxLength=10
	// +kubebuilder:default="10%"
	// +optional
	Nodes string `json:"nodes"`
	// Schedule is when the budget's window opens, in UTC: five cron fields
	// as Kubernetes CronJobs take them (numbers, month and day names such as
	// "0 9 * * mon-fri", ranges, lists, steps) or a macro such as @daily.
	// The pattern is controller/cron.Pattern; a test keeps the two equal.
	// +kubebuilder:validation:Pattern=`^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\*|\?|0*([0-9]|[1-5][0-9])(-0*([0-9]|[1-5][0-9]))?)(/0*[1-9][0-9]{0,2})?(,(\*|\?|0*([0-9]|[1-5][0-9])(-0*([0-9]|[1-5][0-9]))?)(/0*[1-9][0-9]{0,2})?)* +(\*|\?|0*([0-9]|1[0-9]|2[0-3])(-0*([0-9]|1[0-9]|2[0-3]))?)(/0*[1-9][0-9]{0,2})?(,(\*|\?|0*([0-9]|1[0-9]|2[0-3])(-0*([0-9]|1[0-9]|2[0-3]))?)(/0*[1-9][0-9]{0,2})?)* +(\*|\?|0*([1-9]|[12][0-9]|3[01])(-0*([1-9]|[12][0-9]|3[01]))?)(/0*[1-9][0-9]{0,2})?(,(\*|\?|0*([1-9]|[12][0-9]|3[01])(-0*([1-9]|[12][0-9]|3[01]))?)(/0*[1-9][0-9]{0,2})?)* +(\*|\?|(0*([1-9]|1[0-2])|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))(-(0*([1-9]|1[0-2])|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)))?)(/0*[1-9][0-9]{0,2})?(,(\*|\?|(0*([1-9]|1[0-2])|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))(-(0*([1-9]|1[0-2])|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)))?)(/0*[1-9][0-9]{0,2})?)* +(\*|\?|(0*[0-6]|(?i:sun|mon|tue|wed|thu|fri|sat))(-(0*[0-6]|(?i:sun|mon|tue|wed|thu|fri|sat)))?)(/0*[1-9][0-9]{0,2})?(,(\*|\?|(0*[0-6]|(?i:sun|mon|tue|wed|thu|fri|sat))(-(0*[0-6]|(?i:sun|mon|tue|wed|thu|fri|sat)))?)(/0*[1-9][0-9]{0,2})?)*)$`
	// +kubebuilder:validation:MaxLength=100
	// +optional
	Schedule *string `json:"schedule,omitempty"`
	// Duration is how long the window stays open after each Schedule tick.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(s|m|h))+$`
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
}

// NodePoolStatus is what the pool currently adds up to.
type NodePoolStatus struct {
	// Resources is the capacity of the pool's nodes, summed.
	// +optional
	Resources corev1.ResourceList `json:"resources,omitempty"`
	// Nodes is how many nodes the pool has.
	// +optional
	Nodes int64 `json:"nodes,omitempty"`
	// Conditions of the pool (Ready, NodeClassReady, ...).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// NodePoolList is a list of NodePools.
//
// +kubebuilder:object:root=true
type NodePoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NodePool `json:"items"`
}

// SetCondition records a condition, stamped with the pool's generation.
// The transition time only moves when the status changes. An empty reason
// becomes the condition type, since the API requires one.
func (np *NodePool) SetCondition(conditionType string, status metav1.ConditionStatus, reason, message string) (changed bool) {
	if reason == "" {
		reason = conditionType
	}
	return meta.SetStatusCondition(&np.Status.Conditions, metav1.Condition{
		Type:               conditionType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: np.Generation,
	})
}

// GetCondition returns the condition of that type, or nil.
func (np *NodePool) GetCondition(conditionType string) *metav1.Condition {
	return meta.FindStatusCondition(np.Status.Conditions, conditionType)
}

// NodeClassName is the EC2NodeClass the pool's nodeClassRef names; false
// when it names no EC2NodeClass.
func (np *NodePool) NodeClassName() (string, bool) {
	ref := np.Spec.Template.Spec.NodeClassRef
	if ref == nil || ref.Kind != "EC2NodeClass" || ref.Group != Group {
		return "", false
	}
	return ref.Name, true
}

// NodeClassProblem says why the pool cannot launch nodes from nc, the
// EC2NodeClass its nodeClassRef names (nil when that does not exist): a
// reason (ReasonNodeClassNotFound, ReasonNodeClassDeleting or
// ReasonNodeClassNotReady) and a message quoting the class, or "" when it
// can. A class never resolved (no Ready condition) is not ready. The
// NodeClassReady condition and the provisioner's events both say it, so
// they agree word for word.
func (np *NodePool) NodeClassProblem(nc *EC2NodeClass) (reason, message string) {
	name, ok := np.NodeClassName()
	switch {
	case !ok:
		return ReasonNodeClassNotFound, "nodeClassRef does not name an EC2NodeClass"
	case nc == nil:
		return ReasonNodeClassNotFound, fmt.Sprintf("EC2NodeClass %s not found", name)
	case !nc.DeletionTimestamp.IsZero():
		return ReasonNodeClassDeleting, fmt.Sprintf("EC2NodeClass %s is being deleted", name)
	}
	if status, msg := nc.Readiness(); status != metav1.ConditionTrue {
		return ReasonNodeClassNotReady, fmt.Sprintf("EC2NodeClass %s not ready: %s", name, msg)
	}
	return "", ""
}
