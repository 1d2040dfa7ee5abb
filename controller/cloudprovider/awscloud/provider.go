// Package awscloud is nodewright's cloudprovider.CloudProvider on AWS. It
// builds the AWS clients and the providers under controller/providers
// (node classes, launch templates, prices, instance types, instances),
// reads EC2NodeClasses from Kubernetes, and turns what the providers return
// into NodeClaims; the AWS I/O is theirs.
package awscloud

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/providers/cache"
	"github.com/nodewright/nodewright/controller/providers/instance"
	"github.com/nodewright/nodewright/controller/providers/instancetype"
	"github.com/nodewright/nodewright/controller/providers/launchtemplate"
	"github.com/nodewright/nodewright/controller/providers/nodeclass"
	"github.com/nodewright/nodewright/controller/providers/pricing"
)

// Options configure the AWS cloud provider.
type Options struct {
	ClusterName     string
	ClusterEndpoint string
	// ClusterCABundle is the cluster CA certificate, base64-encoded PEM.
	ClusterCABundle string
	// ClusterCIDR is the service CIDR nodes are told about (default 10.96.0.0/16).
	ClusterCIDR string
	// Region defaults to the aws.Config's region.
	Region string
	Clock  clock.Clock
	// ICETTL is how long an out-of-capacity pool stays unavailable (default 3m).
	ICETTL time.Duration
	// MaxFleetOverrides caps the offerings one CreateFleet tries (default 60).
	MaxFleetOverrides int
	// InstanceTypesTTL and PricesTTL say how long discovered instance types
	// and prices are reused before AWS is asked again (default 5m each).
	InstanceTypesTTL time.Duration
	PricesTTL        time.Duration
	// KubernetesVersion picks the images AMI aliases resolve to (default "1.37").
	KubernetesVersion string
	// MaxAttempts of every AWS call, throttling included (default 10).
	MaxAttempts int
	// RetryMaxBackoff caps the wait between attempts (default the SDK's 20s).
	RetryMaxBackoff time.Duration
	// Kube reads EC2NodeClasses.
	Kube client.Client
}

func (o *Options) defaults(cfg aws.Config) error {
	if o.ClusterName == "" {
		return errors.New("aws cloud provider: ClusterName is required")
	}
	if o.Region == "" {
		o.Region = cfg.Region
	}
	if o.Region == "" {
		return errors.New("aws cloud provider: no region in options or aws.Config")
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.ICETTL <= 0 {
		o.ICETTL = 3 * time.Minute
	}
	if o.MaxFleetOverrides <= 0 {
		o.MaxFleetOverrides = 60
	}
	if o.InstanceTypesTTL <= 0 {
		o.InstanceTypesTTL = 5 * time.Minute
	}
	if o.PricesTTL <= 0 {
		o.PricesTTL = 5 * time.Minute
	}
	if o.KubernetesVersion == "" {
		o.KubernetesVersion = "1.37"
	}
	if o.ClusterCIDR == "" {
		o.ClusterCIDR = "10.96.0.0/16"
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	return nil
}

// CloudProvider is nodewright's cloudprovider.CloudProvider on EC2.
type CloudProvider struct {
	opts Options
	kube client.Client

	nodeClasses     nodeclass.Provider
	launchTemplates launchtemplate.Provider
	prices          pricing.Provider
	instanceTypes   instancetype.Provider
	instances       instance.Provider
	// ice is shared: instances marks the pools that ran out of capacity,
	// instanceTypes offers them unavailable.
	ice *cache.UnavailableOfferings
}

var _ cloudprovider.CloudProvider = (*CloudProvider)(nil)

// New builds the provider's EC2, SSM, Pricing and IAM clients from cfg.
// Throttled calls are retried with backoff, more times than the SDK's
// default, and without the retry quota that would otherwise stop retries
// during a burst of throttling.
func New(cfg aws.Config, opts Options) (*CloudProvider, error) {
	if err := opts.defaults(cfg); err != nil {
		return nil, err
	}
	retryer := func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = opts.MaxAttempts
			so.RateLimiter = ratelimit.None
			if opts.RetryMaxBackoff > 0 {
				so.MaxBackoff = opts.RetryMaxBackoff
				so.Backoff = retry.NewExponentialJitterBackoff(opts.RetryMaxBackoff)
			}
		})
	}
	cfg = cfg.Copy()
	cfg.Retryer = retryer
	cfg.RetryMaxAttempts = opts.MaxAttempts
	e := ec2.NewFromConfig(cfg)
	ice := cache.NewUnavailableOfferings(opts.Clock, opts.ICETTL)
	prices := pricing.NewDefaultProvider(pricing.Options{Region: opts.Region, Clock: opts.Clock, TTL: opts.PricesTTL},
		pricing.NewAPI(cfg), e)
	launchTemplates := launchtemplate.NewDefaultProvider(launchtemplate.Options{ClusterName: opts.ClusterName,
		ClusterEndpoint: opts.ClusterEndpoint, ClusterCABundle: opts.ClusterCABundle, ClusterCIDR: opts.ClusterCIDR}, e)
	return &CloudProvider{
		opts: opts,
		kube: opts.Kube,
		nodeClasses: nodeclass.NewDefaultProvider(nodeclass.Options{ClusterName: opts.ClusterName, Region: opts.Region,
			KubernetesVersion: opts.KubernetesVersion}, e, ssm.NewFromConfig(cfg), iam.NewFromConfig(cfg)),
		launchTemplates: launchTemplates,
		prices:          prices,
		instanceTypes: instancetype.NewDefaultProvider(instancetype.Options{Region: opts.Region, Clock: opts.Clock, TTL: opts.InstanceTypesTTL},
			e, prices, ice),
		instances: instance.NewDefaultProvider(instance.Options{ClusterName: opts.ClusterName, MaxFleetOverrides: opts.MaxFleetOverrides},
			e, launchTemplates, ice),
		ice: ice,
	}, nil
}

// Name implements cloudprovider.CloudProvider.
func (p *CloudProvider) Name() string { return "aws" }

// Region is the region the provider launches in.
func (p *CloudProvider) Region() string { return p.opts.Region }

// ICE records that a pool ran out of capacity; it stays unavailable for ICETTL.
func (p *CloudProvider) ICE(instanceType, zone, capacityType string) {
	p.ice.Mark(instanceType, zone, capacityType)
}

// MarkUnavailable implements cloudprovider.CloudProvider over the ICE cache.
func (p *CloudProvider) MarkUnavailable(instanceType, zone, capacityType string, ttl time.Duration) {
	p.ice.MarkFor(instanceType, zone, capacityType, ttl)
}

// ResolveNodeClass resolves the EC2NodeClass's selectors into nc.Status
// (nodeclass.Provider.Resolve says how).
func (p *CloudProvider) ResolveNodeClass(ctx context.Context, nc *v1.EC2NodeClass) error {
	return p.nodeClasses.Resolve(ctx, nc)
}

// InstanceProfileName is the name of the profile nodewright manages for a
// node class with spec.role.
func (p *CloudProvider) InstanceProfileName(nodeClass string) string {
	return p.nodeClasses.InstanceProfileName(nodeClass)
}

// DeleteInstanceProfile deletes the profile nodewright created for the node
// class, if any; a profile named in spec.instanceProfile is the user's and
// is left alone. Deleting one that is already gone succeeds.
func (p *CloudProvider) DeleteInstanceProfile(ctx context.Context, nc *v1.EC2NodeClass) error {
	return p.nodeClasses.DeleteInstanceProfile(ctx, nc)
}

// DeleteLaunchTemplates deletes the launch templates the provider made for
// a node class, or for the whole cluster when nodeClass is empty (tearing a
// cluster down).
func (p *CloudProvider) DeleteLaunchTemplates(ctx context.Context, nodeClass string) (int, error) {
	return p.launchTemplates.Delete(ctx, nodeClass)
}

// PricesEmbedded implements status.Resolver: the Price List fallback the
// pricing provider is in, if any, as a sentence a user can act on.
func (p *CloudProvider) PricesEmbedded() (uint64, string) {
	f := p.prices.Fallback()
	if f.Episode == 0 {
		return 0, ""
	}
	source := "the embedded catalog's " + f.PriceRegion + " list prices"
	if f.PriceRegion != f.Region {
		source = "us-east-1's embedded list prices, standing in for " + f.Region + " (the catalog has no " + f.Region + " prices)"
	}
	return f.Episode, fmt.Sprintf("The AWS Price List could not be read (%s), so on-demand prices are %s until it answers. "+
		"Allow pricing:GetProducts to the controller's role and check that it can reach the Price List endpoint %s.",
		f.Reason, source, pricing.APIRegion(f.Region))
}

// PricesReadAt is when the prices offerings now carry were read from AWS;
// zero before the first read (pricing.Provider.ReadAt says why it matters).
func (p *CloudProvider) PricesReadAt() time.Time { return p.prices.ReadAt() }
