package awsemu

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nodewright/nodewright/controller/catalog"
)

// WorldOptions shape the simulated account. The zero value is the default:
// the real catalog offered in three zones, a default VPC with one private
// subnet per zone, and an EKS cluster named "localcloud".
type WorldOptions struct {
	// ClusterName is the EKS cluster DescribeCluster reports, and the name in
	// the discovery tags of the default subnets and security group.
	ClusterName string `json:"clusterName"`
	// ClusterEndpoint and ClusterCA (PEM) describe the local kube-apiserver.
	ClusterEndpoint string `json:"clusterEndpoint"`
	ClusterCA       []byte `json:"clusterCA"`
	// KubernetesVersion reported by DescribeCluster (default "1.37").
	KubernetesVersion string `json:"kubernetesVersion"`
	// OIDCIssuer of the cluster's service-account tokens.
	OIDCIssuer string `json:"oidcIssuer"`
	// Zones, default <region>a, b and c.
	Zones []string `json:"zones"`
	// Offerings limits which instance types are offered in which zones;
	// nil offers every catalog type in every zone.
	Offerings map[string][]string `json:"offerings"`
	// DiscoveryTags are put on the default subnets and security group, in
	// addition to nodewright.dev/discovery=<cluster> and kubernetes.io/cluster/<cluster>=owned.
	DiscoveryTags map[string]string `json:"discoveryTags"`
	// Timing of instance state transitions.
	Timing Timing `json:"timing"`
}

// Timing of instance lifecycles. Zero fields take the defaults.
type Timing struct {
	// PendingToRunning, default 1s (AWS: ~5-15s; the realistic profile uses 10s).
	PendingToRunning time.Duration `json:"pendingToRunning"`
	// ShuttingDownToTerminated, default 2s.
	ShuttingDownToTerminated time.Duration `json:"shuttingDownToTerminated"`
	// TerminatedRetention: how long terminated instances stay visible, default 1h.
	TerminatedRetention time.Duration `json:"terminatedRetention"`
}

func (o *WorldOptions) defaults(region string) {
	if o.ClusterName == "" {
		o.ClusterName = "localcloud"
	}
	if o.KubernetesVersion == "" {
		o.KubernetesVersion = "1.37"
	}
	if len(o.Zones) == 0 {
		o.Zones = []string{region + "a", region + "b", region + "c"}
	}
	if o.Timing.PendingToRunning == 0 {
		o.Timing.PendingToRunning = time.Second
	}
	if o.Timing.ShuttingDownToTerminated == 0 {
		o.Timing.ShuttingDownToTerminated = 2 * time.Second
	}
	if o.Timing.TerminatedRetention == 0 {
		o.Timing.TerminatedRetention = time.Hour
	}
}

// World is the whole simulated account. It is persisted as JSON, so every
// field a service keeps must be exported and serializable.
type World struct {
	// ID tells this account apart from others sharing a cluster (a test's
	// emulator beside the local cloud's own); it survives restarts.
	ID      string       `json:"id"`
	Region  string       `json:"region"`
	Options WorldOptions `json:"options"`
	EC2     *EC2State    `json:"ec2"`
	IAM     *IAMState    `json:"iam"`
	SQS     *SQSState    `json:"sqs"`
	Events  *EventsState `json:"events"`
	SSM     *SSMState    `json:"ssm"`
	EKS     *EKSState    `json:"eks"`
	STS     *STSState    `json:"sts"`
}

func newWorld(opts WorldOptions, region string) *World {
	opts.defaults(region)
	w := &World{ID: newID("world"), Region: region, Options: opts}
	w.EC2 = newEC2State(w)
	w.IAM = newIAMState(w)
	w.SQS = newSQSState(w)
	w.Events = newEventsState(w)
	w.SSM = newSSMState(w)
	w.EKS = newEKSState(w)
	w.STS = &STSState{Sessions: map[string]*STSSession{}, Denials: map[string]string{}}
	return w
}

// Instance is an EC2 instance. The node agent reads these to play kubelet.
type Instance struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	Zone         string `json:"zone"`
	SubnetID     string `json:"subnetId"`
	CapacityType string `json:"capacityType"` // spot | on-demand
	State        string `json:"state"`        // pending | running | shutting-down | terminated
	// StateChangeAt is when the current transient state ends.
	StateChangeAt  time.Time `json:"stateChangeAt"`
	LaunchTime     time.Time `json:"launchTime"`
	TerminatedAt   time.Time `json:"terminatedAt"`
	ImageID        string    `json:"imageId"`
	Architecture   string    `json:"architecture"` // x86_64 | arm64
	PrivateIP      string    `json:"privateIp"`
	PrivateDNS     string    `json:"privateDns"`
	SecurityGroups []string  `json:"securityGroups"`
	// UserData is base64, as CreateLaunchTemplate / RunInstances took it.
	UserData           string            `json:"userData"`
	InstanceProfileARN string            `json:"instanceProfileArn"`
	LaunchTemplateID   string            `json:"launchTemplateId"`
	SpotPrice          float64           `json:"spotPrice"`
	Tags               map[string]string `json:"tags"`
	// NeverJoin simulates a broken bootstrap: the instance runs, its node never registers.
	NeverJoin bool `json:"neverJoin"`
	// InterruptAt is set by a spot interruption: the instance terminates then.
	InterruptAt time.Time `json:"interruptAt"`
}

// Image is an AMI. The default set holds the EKS-optimized AL2023 and
// Bottlerocket images whose ids the public SSM parameters resolve to.
type Image struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Owner        string            `json:"owner"`
	Architecture string            `json:"architecture"` // x86_64 | arm64
	Family       string            `json:"family"`       // al2023 | bottlerocket | custom
	Variant      string            `json:"variant"`      // standard | nvidia | neuron, for the EKS-optimized families
	K8sVersion   string            `json:"k8sVersion"`
	CreationDate time.Time         `json:"creationDate"`
	Tags         map[string]string `json:"tags"`
	// SSMParameter is the public parameter that names this image, if any.
	SSMParameter string `json:"ssmParameter"`
}

// EKSImageOwner is the account that owns the EKS-optimized AMIs.
const EKSImageOwner = "602401143452"

// Kubernetes versions with published EKS-optimized images.
var eksImageVersions = []string{"1.35", "1.36", "1.37"}

// eksImageVariants are the accelerated AL2023 and Bottlerocket images
// published beside the standard ones, per architecture, as Karpenter's AMI
// families look them up: AL2023 nvidia on both architectures and neuron on
// x86_64 only; Bottlerocket nvidia on both. idPrefix keeps every id stable
// across releases of the emulator.
var eksImageVariants = []struct {
	family, variant, idPrefix string
	arches                    []string
}{
	{"al2023", "standard", "ami-0a1023", []string{"x86_64", "arm64"}},
	{"al2023", "nvidia", "ami-0a1024", []string{"x86_64", "arm64"}},
	{"al2023", "neuron", "ami-0a1025", []string{"x86_64"}},
	{"bottlerocket", "standard", "ami-0b0771", []string{"x86_64", "arm64"}},
	{"bottlerocket", "nvidia", "ami-0b0772", []string{"x86_64", "arm64"}},
}

// defaultImages returns the EKS-optimized images, with stable ids so that
// the SSM parameters and DescribeImages agree across restarts. Names and
// parameter paths follow AWS's: AL2023 names its variant in both; a
// Bottlerocket variant is a suffix of the Kubernetes version, its parameter
// path spells the architecture arm64 and its image name aarch64.
func defaultImages() []*Image {
	created := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var out []*Image
	for _, vr := range eksImageVariants {
		n := 0
		for _, v := range eksImageVersions {
			for _, arch := range []string{"x86_64", "arm64"} {
				n++
				if !slices.Contains(vr.arches, arch) {
					continue
				}
				img := &Image{
					ID: fmt.Sprintf("%s%011d", vr.idPrefix, n), Owner: EKSImageOwner, Architecture: arch, Family: vr.family,
					Variant: vr.variant, K8sVersion: v, CreationDate: created, Tags: map[string]string{},
				}
				switch vr.family {
				case "al2023":
					img.Name = fmt.Sprintf("amazon-eks-node-al2023-%s-%s-%s-v20261101", arch, vr.variant, v)
					img.SSMParameter = fmt.Sprintf("/aws/service/eks/optimized-ami/%s/amazon-linux-2023/%s/%s/recommended/image_id", v, arch, vr.variant)
				case "bottlerocket":
					flavor := ""
					if vr.variant != "standard" {
						flavor = "-" + vr.variant
					}
					nameArch := map[string]string{"x86_64": "x86_64", "arm64": "aarch64"}[arch]
					img.Name = fmt.Sprintf("bottlerocket-aws-k8s-%s%s-%s-v1.50.0-20261101", v, flavor, nameArch)
					img.SSMParameter = fmt.Sprintf("/aws/service/bottlerocket/aws-k8s-%s%s/%s/latest/image_id", v, flavor, arch)
				}
				out = append(out, img)
			}
		}
	}
	return out
}

// catalogTypes is the embedded instance-type catalog.
var catalogTypes = sync.OnceValues(catalog.InstanceTypes)

// Catalog indexes the instance types the emulator offers.
type Catalog struct {
	Types  []catalog.InstanceType
	ByName map[string]*catalog.InstanceType
}

// LoadCatalog reads the embedded catalog.
func LoadCatalog() (*Catalog, error) {
	types, err := catalogTypes()
	if err != nil {
		return nil, fmt.Errorf("awsemu: loading instance-type catalog: %w", err)
	}
	c := &Catalog{Types: types, ByName: make(map[string]*catalog.InstanceType, len(types))}
	for i := range types {
		c.ByName[types[i].Name] = &types[i]
	}
	return c, nil
}

// Event is an EventBridge event as services emit it; events.go matches it
// against rules and delivers it to targets.
type Event struct {
	Source     string
	DetailType string
	Resources  []string
	Detail     any
	Time       time.Time
}
