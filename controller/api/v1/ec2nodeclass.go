package v1

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Tag keys nodewright puts on the EC2 resources it creates; users can't set
// them through EC2NodeClass tags.
const (
	NodePoolTagKey       = NodePoolLabelKey
	NodeClaimTagKey      = Group + "/nodeclaim"
	EC2NodeClassTagKey   = NodeClassLabelKey
	EKSClusterNameTagKey = "eks:eks-cluster-name"
	// ClusterTagKeyPrefix + cluster name marks resources owned by a cluster.
	ClusterTagKeyPrefix = "kubernetes.io/cluster/"
)

// AMI families.
const (
	AMIFamilyAL2023       = "AL2023"
	AMIFamilyBottlerocket = "Bottlerocket"
	AMIFamilyCustom       = "Custom"
)

// EC2NodeClass condition types.
const (
	ConditionTypeSubnetsReady         = "SubnetsReady"
	ConditionTypeSecurityGroupsReady  = "SecurityGroupsReady"
	ConditionTypeAMIsReady            = "AMIsReady"
	ConditionTypeInstanceProfileReady = "InstanceProfileReady"
)

// Readiness is the node class's Ready condition status (Unknown when it has
// none: never resolved) and, unless True, why: the Ready message followed
// by the messages of the parts that are not ready, e.g. "SubnetsReady not
// ready: no subnet matches subnetSelectorTerms [...]". Pools and pods that
// cannot launch quote it, so the user sees the cause without reading the
// class.
func (nc *EC2NodeClass) Readiness() (metav1.ConditionStatus, string) {
	ready := meta.FindStatusCondition(nc.Status.Conditions, ConditionTypeReady)
	if ready == nil {
		return metav1.ConditionUnknown, "not resolved yet"
	}
	if ready.Status == metav1.ConditionTrue {
		return ready.Status, ""
	}
	parts := []string{ready.Message}
	for _, t := range []string{ConditionTypeSubnetsReady, ConditionTypeSecurityGroupsReady, ConditionTypeAMIsReady, ConditionTypeInstanceProfileReady} {
		if c := meta.FindStatusCondition(nc.Status.Conditions, t); c != nil && c.Status != metav1.ConditionTrue && c.Message != "" {
			parts = append(parts, c.Message)
		}
	}
	if parts[0] == "" {
		parts[0] = ready.Reason
	}
	return ready.Status, strings.Join(parts, ": ")
}

// EC2NodeClass says how to launch nodes on EC2: networking, image, IAM,
// storage, instance metadata, tags and kubelet settings.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=ec2nodeclasses,scope=Cluster,categories=nodewright,shortName=ec2nc;ec2ncs
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Role",type="string",JSONPath=".spec.role"
// +kubebuilder:printcolumn:name="Ready",type="string",JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type="date",JSONPath=".metadata.creationTimestamp"
type EC2NodeClass struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec EC2NodeClassSpec `json:"spec"`
	// +optional
	Status EC2NodeClassStatus `json:"status,omitempty"`
}

// EC2NodeClassSpec is the launch configuration.
//
// +kubebuilder:validation:XValidation:rule="has(self.role) != has(self.instanceProfile)",message="specify exactly one of role or instanceProfile"
// +kubebuilder:validation:XValidation:rule="has(self.amiFamily) || self.amiSelectorTerms.exists(t, has(t.alias))",message="amiFamily is required unless amiSelectorTerms uses an alias"
// +kubebuilder:validation:XValidation:rule="!has(self.amiFamily) || !self.amiSelectorTerms.exists(t, has(t.alias)) || self.amiSelectorTerms.exists(t, has(t.alias) && ((self.amiFamily == 'AL2023' && t.alias.startsWith('al2023@')) || (self.amiFamily == 'Bottlerocket' && t.alias.startsWith('bottlerocket@'))))",message="amiFamily must match the family of the alias in amiSelectorTerms"
// +kubebuilder:validation:XValidation:rule="!has(self.kubelet) || !has(self.kubelet.podsPerCore) || !((has(self.amiFamily) && self.amiFamily == 'Bottlerocket') || self.amiSelectorTerms.exists(t, has(t.alias) && t.alias.startsWith('bottlerocket@')))",message="kubelet.podsPerCore is not supported on the Bottlerocket AMI family, which has no such setting; use kubelet.maxPods"
type EC2NodeClassSpec struct {
	// SubnetSelectorTerms select the subnets nodes launch into; terms are ORed.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=30
	// +listType=atomic
	// +required
	SubnetSelectorTerms []SubnetSelectorTerm `json:"subnetSelectorTerms"`
	// SecurityGroupSelectorTerms select the security groups of the nodes;
	// terms are ORed.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=30
	// +listType=atomic
	// +required
	SecurityGroupSelectorTerms []SecurityGroupSelectorTerm `json:"securityGroupSelectorTerms"`
	// AMISelectorTerms select the images; terms are ORed. An alias such as
	// al2023@latest must be the only term.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=30
	// +kubebuilder:validation:XValidation:rule="!self.exists(t, has(t.alias)) || self.size() == 1",message="an alias AMI selector term can't be combined with other terms"
	// +listType=atomic
	// +required
	AMISelectorTerms []AMISelectorTerm `json:"amiSelectorTerms"`
	// AMIFamily decides the user data format and default block devices. It
	// is implied by an alias; with other AMI terms it is required.
	// +kubebuilder:validation:Enum=AL2023;Bottlerocket;Custom
	// +optional
	AMIFamily *string `json:"amiFamily,omitempty"`
	// Role is the IAM role for nodes; nodewright manages an instance
	// profile for it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Role string `json:"role,omitempty"`
	// InstanceProfile is an existing instance profile, used as is.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +optional
	InstanceProfile *string `json:"instanceProfile,omitempty"`
	// UserData is merged with the bootstrap configuration nodewright
	// generates (AL2023: a MIME multi-part document; Bottlerocket: TOML).
	// +kubebuilder:validation:MaxLength=16384
	// +optional
	UserData *string `json:"userData,omitempty"`
	// Tags are put on everything launched for the node class: instances,
	// their volumes and network interfaces, spot requests, fleets and
	// launch templates. Keys nodewright sets itself are refused.
	// +kubebuilder:validation:MaxProperties=50
	// +kubebuilder:validation:XValidation:rule="self.all(k, k != '')",message="tag keys must not be empty"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('kubernetes.io/cluster/'))",messageExpression="'tag key ' + self.filter(k, k.startsWith('kubernetes.io/cluster/'))[0] + ' is reserved: nodewright tags every resource of the cluster with kubernetes.io/cluster/<cluster name>'"
	// +kubebuilder:validation:XValidation:rule="!('nodewright.dev/nodepool' in self)",message="tag key nodewright.dev/nodepool is reserved: nodewright sets it to the name of the NodePool a resource belongs to"
	// +kubebuilder:validation:XValidation:rule="!('nodewright.dev/nodeclaim' in self)",message="tag key nodewright.dev/nodeclaim is reserved: nodewright sets it to the name of the NodeClaim a resource belongs to"
	// +kubebuilder:validation:XValidation:rule="!('nodewright.dev/ec2nodeclass' in self)",message="tag key nodewright.dev/ec2nodeclass is reserved: nodewright sets it to the name of the EC2NodeClass a resource belongs to"
	// +kubebuilder:validation:XValidation:rule="!('eks:eks-cluster-name' in self)",message="tag key eks:eks-cluster-name is reserved: nodewright sets it to the name of the EKS cluster"
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
	// Kubelet settings for the nodes. On AL2023 and Bottlerocket nodewright
	// writes them into the bootstrap userData; on every family they shape the
	// capacity and allocatable it plans with. A Custom image bootstraps
	// itself, so there they only feed that plan: configure kubelet alike in
	// userData, or the nodes will disagree with it.
	// +optional
	Kubelet *KubeletConfiguration `json:"kubelet,omitempty"`
	// BlockDeviceMappings replace the AMI family's default volumes.
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:XValidation:rule="self.filter(b, has(b.rootVolume) && b.rootVolume).size() <= 1",message="at most one block device mapping may be the root volume"
	// +listType=atomic
	// +optional
	BlockDeviceMappings []BlockDeviceMapping `json:"blockDeviceMappings,omitempty"`
	// MetadataOptions configure the instance metadata service; the default
	// requires IMDSv2 with a hop limit of 1, so pods can't reach it.
	// +kubebuilder:default={httpEndpoint: enabled, httpProtocolIPv6: disabled, httpPutResponseHopLimit: 1, httpTokens: required}
	// +optional
	MetadataOptions *MetadataOptions `json:"metadataOptions,omitempty"`
}

// SubnetSelectorTerm selects subnets by tags or by id.
//
// +kubebuilder:validation:XValidation:rule="has(self.tags) != has(self.id)",message="a subnet selector term needs exactly one of tags or id"
type SubnetSelectorTerm struct {
	// Tags the subnet must have; "*" as a value matches any value.
	// +kubebuilder:validation:MaxProperties=20
	// +kubebuilder:validation:XValidation:rule="self.all(k, k != '' && self[k] != '')",message="selector tag keys and values must not be empty"
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
	// ID of the subnet.
	// +kubebuilder:validation:Pattern=`^subnet-[0-9a-z]+$`
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ID string `json:"id,omitempty"`
}

// SecurityGroupSelectorTerm selects security groups by tags and/or name, or
// by id.
//
// +kubebuilder:validation:XValidation:rule="has(self.tags) || has(self.id) || has(self.name)",message="a security group selector term needs tags, id or name"
// +kubebuilder:validation:XValidation:rule="!has(self.id) || !(has(self.tags) || has(self.name))",message="a security group selector term with an id can't also have tags or name"
type SecurityGroupSelectorTerm struct {
	// Tags the group must have; "*" as a value matches any value.
	// +kubebuilder:validation:MaxProperties=20
	// +kubebuilder:validation:XValidation:rule="self.all(k, k != '' && self[k] != '')",message="selector tag keys and values must not be empty"
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
	// ID of the group.
	// +kubebuilder:validation:Pattern=`^sg-[0-9a-z]+$`
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ID string `json:"id,omitempty"`
	// Name of the group (its GroupName, not its Name tag).
	// +kubebuilder:validation:MaxLength=255
	// +optional
	Name string `json:"name,omitempty"`
}

// AMISelectorTerm selects images: by alias (a family and version nodewright
// resolves through the public SSM parameters), id, name and/or owner, tags,
// or an SSM parameter holding an image id.
//
// +kubebuilder:validation:XValidation:rule="has(self.alias) || has(self.id) || has(self.name) || has(self.tags) || has(self.ssmParameter)",message="an AMI selector term needs an alias, id, name, tags or ssmParameter"
// +kubebuilder:validation:XValidation:rule="!has(self.alias) || !(has(self.id) || has(self.name) || has(self.owner) || has(self.tags) || has(self.ssmParameter))",message="an AMI selector term with an alias can't have other fields"
// +kubebuilder:validation:XValidation:rule="!has(self.id) || !(has(self.name) || has(self.owner) || has(self.tags) || has(self.ssmParameter))",message="an AMI selector term with an id can't have other fields"
// +kubebuilder:validation:XValidation:rule="!has(self.ssmParameter) || !(has(self.name) || has(self.owner) || has(self.tags))",message="an AMI selector term with an ssmParameter can't have other fields"
type AMISelectorTerm struct {
	// Alias is family@version: al2023@latest, al2023@v20261101,
	// bottlerocket@latest, bottlerocket@v1.40.0.
	// +kubebuilder:validation:MaxLength=30
	// +kubebuilder:validation:Pattern=`^(al2023|bottlerocket)@(latest|v[0-9]+([.][0-9]+)*)$`
	// +optional
	Alias string `json:"alias,omitempty"`
	// ID of the image.
	// +kubebuilder:validation:Pattern=`^ami-[0-9a-z]+$`
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ID string `json:"id,omitempty"`
	// Name of the image; may contain * wildcards.
	// +kubebuilder:validation:MaxLength=128
	// +optional
	Name string `json:"name,omitempty"`
	// Owner of the image: an account id, "self" or "amazon".
	// +kubebuilder:validation:Pattern=`^(self|amazon|[0-9]{12})$`
	// +optional
	Owner string `json:"owner,omitempty"`
	// Tags the image must have.
	// +kubebuilder:validation:MaxProperties=20
	// +kubebuilder:validation:XValidation:rule="self.all(k, k != '' && self[k] != '')",message="selector tag keys and values must not be empty"
	// +optional
	Tags map[string]string `json:"tags,omitempty"`
	// SSMParameter names a parameter whose value is an image id.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	SSMParameter string `json:"ssmParameter,omitempty"`
}

// BlockDeviceMapping is one volume attached at launch.
type BlockDeviceMapping struct {
	// DeviceName, like /dev/xvda.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	DeviceName *string `json:"deviceName,omitempty"`
	// RootVolume marks the volume kubelet reports as node ephemeral storage.
	// +optional
	RootVolume bool `json:"rootVolume,omitempty"`
	// EBS volume settings.
	// +optional
	EBS *BlockDevice `json:"ebs,omitempty"`
}

// BlockDevice is an EBS volume.
//
// +kubebuilder:validation:XValidation:rule="!has(self.iops) || (has(self.volumeType) && self.volumeType in ['io1', 'io2', 'gp3'])",message="iops can only be set for io1, io2 and gp3 volumes"
// +kubebuilder:validation:XValidation:rule="!has(self.throughput) || (has(self.volumeType) && self.volumeType == 'gp3')",message="throughput can only be set for gp3 volumes"
type BlockDevice struct {
	// VolumeSize, like 20Gi.
	// +optional
	VolumeSize *resource.Quantity `json:"volumeSize,omitempty"`
	// VolumeType of the EBS volume.
	// +kubebuilder:validation:Enum=standard;io1;io2;gp2;sc1;st1;gp3
	// +optional
	VolumeType *string `json:"volumeType,omitempty"`
	// IOPS provisioned (io1, io2, gp3).
	// +kubebuilder:validation:Minimum=100
	// +kubebuilder:validation:Maximum=256000
	// +optional
	IOPS *int64 `json:"iops,omitempty"`
	// Throughput in MiB/s (gp3).
	// +kubebuilder:validation:Minimum=125
	// +kubebuilder:validation:Maximum=2000
	// +optional
	Throughput *int64 `json:"throughput,omitempty"`
	// Encrypted volumes; the default key unless KMSKeyID is set.
	// +optional
	Encrypted *bool `json:"encrypted,omitempty"`
	// KMSKeyID encrypts the volume with that key.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	KMSKeyID *string `json:"kmsKeyID,omitempty"`
	// DeleteOnTermination deletes the volume with the instance.
	// +optional
	DeleteOnTermination *bool `json:"deleteOnTermination,omitempty"`
	// SnapshotID the volume is created from.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	SnapshotID *string `json:"snapshotID,omitempty"`
}

// MetadataOptions configure IMDS on the instances.
type MetadataOptions struct {
	// HTTPEndpoint turns IMDS on or off.
	// +kubebuilder:validation:Enum=enabled;disabled
	// +kubebuilder:default=enabled
	// +optional
	HTTPEndpoint *string `json:"httpEndpoint,omitempty"`
	// HTTPProtocolIPv6 serves IMDS on its IPv6 address too.
	// +kubebuilder:validation:Enum=enabled;disabled
	// +kubebuilder:default=disabled
	// +optional
	HTTPProtocolIPv6 *string `json:"httpProtocolIPv6,omitempty"`
	// HTTPPutResponseHopLimit is the IP hop limit of IMDS token responses;
	// 1 keeps them from reaching pods on a pod network.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=64
	// +kubebuilder:default=1
	// +optional
	HTTPPutResponseHopLimit *int64 `json:"httpPutResponseHopLimit,omitempty"`
	// HTTPTokens: required means IMDSv2 only.
	// +kubebuilder:validation:Enum=required;optional
	// +kubebuilder:default=required
	// +optional
	HTTPTokens *string `json:"httpTokens,omitempty"`
}

// KubeletConfiguration holds the kubelet settings nodewright passes at
// bootstrap and accounts for in capacity and allocatable. Field names are
// kubelet's KubeletConfiguration's, as AL2023's NodeConfig takes them;
// Bottlerocket takes them as settings.kubernetes keys (controller/README.md
// lists each).
//
// +kubebuilder:validation:XValidation:rule="!has(self.evictionSoft) || self.evictionSoft.all(k, has(self.evictionSoftGracePeriod) && k in self.evictionSoftGracePeriod)",message="every evictionSoft signal needs an evictionSoftGracePeriod"
// +kubebuilder:validation:XValidation:rule="!has(self.evictionSoftGracePeriod) || self.evictionSoftGracePeriod.all(k, has(self.evictionSoft) && k in self.evictionSoft)",message="every evictionSoftGracePeriod signal needs an evictionSoft threshold"
// +kubebuilder:validation:XValidation:rule="!has(self.imageGCHighThresholdPercent) || !has(self.imageGCLowThresholdPercent) || self.imageGCHighThresholdPercent > self.imageGCLowThresholdPercent",message="imageGCHighThresholdPercent must be greater than imageGCLowThresholdPercent"
type KubeletConfiguration struct {
	// ClusterDNS overrides the cluster DNS server addresses.
	// +kubebuilder:validation:MaxItems=5
	// +kubebuilder:validation:items:MaxLength=45
	// +listType=atomic
	// +optional
	ClusterDNS []string `json:"clusterDNS,omitempty"`
	// MaxPods caps pods per node; unset or 0, the ENI limit of the type.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxPods *int32 `json:"maxPods,omitempty"`
	// PodsPerCore caps pods per vCPU (the lower of this and MaxPods wins).
	// Bottlerocket has no such setting, so it is refused there.
	// +kubebuilder:validation:Minimum=0
	// +optional
	PodsPerCore *int32 `json:"podsPerCore,omitempty"`
	// SystemReserved resources (cpu, memory, ephemeral-storage, pid),
	// subtracted from allocatable.
	// +kubebuilder:validation:MaxProperties=4
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['cpu', 'memory', 'ephemeral-storage', 'pid'])",message="systemReserved may only reserve cpu, memory, ephemeral-storage and pid"
	// +kubebuilder:validation:XValidation:rule="self.all(k, isQuantity(self[k]) && !quantity(self[k]).isLessThan(quantity('0')))",message="systemReserved values must be non-negative quantities such as 100m or 1Gi"
	// +optional
	SystemReserved map[string]string `json:"systemReserved,omitempty"`
	// KubeReserved resources (cpu, memory, ephemeral-storage, pid); each
	// replaces the EKS default for that resource in allocatable.
	// +kubebuilder:validation:MaxProperties=4
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['cpu', 'memory', 'ephemeral-storage', 'pid'])",message="kubeReserved may only reserve cpu, memory, ephemeral-storage and pid"
	// +kubebuilder:validation:XValidation:rule="self.all(k, isQuantity(self[k]) && !quantity(self[k]).isLessThan(quantity('0')))",message="kubeReserved values must be non-negative quantities such as 100m or 1Gi"
	// +optional
	KubeReserved map[string]string `json:"kubeReserved,omitempty"`
	// EvictionHard thresholds, as quantities or percentages of capacity;
	// memory.available (default 100Mi) and nodefs.available are subtracted
	// from allocatable.
	// +kubebuilder:validation:MaxProperties=6
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available'])",message="evictionHard signals must be memory.available, nodefs.available, nodefs.inodesFree, imagefs.available, imagefs.inodesFree or pid.available"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !self[k].startsWith('-') && (self[k].endsWith('%') ? isQuantity(self[k].substring(0, self[k].size() - 1)) && quantity(self[k].substring(0, self[k].size() - 1)).compareTo(quantity('100')) <= 0 : isQuantity(self[k])))",message="eviction thresholds must be percentages such as 10% or quantities such as 100Mi"
	// +optional
	EvictionHard map[string]string `json:"evictionHard,omitempty"`
	// EvictionSoft thresholds; each needs an EvictionSoftGracePeriod. As in
	// kubelet, soft thresholds don't reduce allocatable.
	// +kubebuilder:validation:MaxProperties=6
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available'])",message="evictionSoft signals must be memory.available, nodefs.available, nodefs.inodesFree, imagefs.available, imagefs.inodesFree or pid.available"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !self[k].startsWith('-') && (self[k].endsWith('%') ? isQuantity(self[k].substring(0, self[k].size() - 1)) && quantity(self[k].substring(0, self[k].size() - 1)).compareTo(quantity('100')) <= 0 : isQuantity(self[k])))",message="eviction thresholds must be percentages such as 10% or quantities such as 100Mi"
	// +optional
	EvictionSoft map[string]string `json:"evictionSoft,omitempty"`
	// EvictionSoftGracePeriod is how long each soft threshold must be
	// crossed before pods are evicted.
	// +kubebuilder:validation:MaxProperties=6
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available'])",message="evictionSoftGracePeriod signals must be memory.available, nodefs.available, nodefs.inodesFree, imagefs.available, imagefs.inodesFree or pid.available"
	// +optional
	EvictionSoftGracePeriod map[string]metav1.Duration `json:"evictionSoftGracePeriod,omitempty"`
	// EvictionMaxPodGracePeriod caps pod grace periods (seconds) during
	// soft evictions.
	// +kubebuilder:validation:Minimum=0
	// +optional
	EvictionMaxPodGracePeriod *int32 `json:"evictionMaxPodGracePeriod,omitempty"`
	// ImageGCHighThresholdPercent of disk use starts image garbage collection.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	ImageGCHighThresholdPercent *int32 `json:"imageGCHighThresholdPercent,omitempty"`
	// ImageGCLowThresholdPercent of disk use is where collection stops.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	ImageGCLowThresholdPercent *int32 `json:"imageGCLowThresholdPercent,omitempty"`
	// CPUCFSQuota enforces CPU limits with CFS quota.
	// +optional
	CPUCFSQuota *bool `json:"cpuCFSQuota,omitempty"`
}

// EC2NodeClassStatus is what the selectors resolved to.
type EC2NodeClassStatus struct {
	// Subnets selected, with their zones.
	// +listType=atomic
	// +optional
	Subnets []Subnet `json:"subnets,omitempty"`
	// SecurityGroups selected.
	// +listType=atomic
	// +optional
	SecurityGroups []SecurityGroup `json:"securityGroups,omitempty"`
	// AMIs selected, each with the requirements (architecture, GPU, ...)
	// an instance type must meet to use it.
	// +listType=atomic
	// +optional
	AMIs []AMI `json:"amis,omitempty"`
	// InstanceProfile nodes launch with.
	// +optional
	InstanceProfile string `json:"instanceProfile,omitempty"`
	// Conditions: Ready, SubnetsReady, SecurityGroupsReady, AMIsReady,
	// InstanceProfileReady.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Subnet is a resolved subnet.
type Subnet struct {
	// +required
	ID string `json:"id"`
	// +required
	Zone string `json:"zone"`
	// +optional
	ZoneID string `json:"zoneID,omitempty"`
}

// SecurityGroup is a resolved security group.
type SecurityGroup struct {
	// +required
	ID string `json:"id"`
	// +optional
	Name string `json:"name,omitempty"`
}

// AMI is a resolved image.
type AMI struct {
	// +required
	ID string `json:"id"`
	// +optional
	Name string `json:"name,omitempty"`
	// Requirements an instance type must satisfy to run the image.
	// +listType=atomic
	// +required
	Requirements []corev1.NodeSelectorRequirement `json:"requirements"`
}

// EC2NodeClassList is a list of EC2NodeClasses.
//
// +kubebuilder:object:root=true
type EC2NodeClassList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []EC2NodeClass `json:"items"`
}
