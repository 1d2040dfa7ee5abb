// Package instance launches, reads and terminates the EC2 instances behind
// NodeClaims: one instant CreateFleet per capacity type over the cheapest
// offerings a NodeClaim allows, DescribeInstances and TerminateInstances.
// Every method but ProviderID and ParseProviderID does I/O.
package instance

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/providers/cache"
	"github.com/nodewright/nodewright/controller/providers/internal/awsapi"
	"github.com/nodewright/nodewright/controller/providers/launchtemplate"
)

// Provider launches and terminates the cluster's instances.
type Provider interface {
	// Create launches one instance for the NodeClaim from the available
	// offerings of types its requirements and requests allow, spot first
	// when allowed, cheapest first. The NodeClaim's UID makes a retried
	// Create return the instance the first one launched. It returns a
	// *cloudprovider.InsufficientCapacityError when no offering has
	// capacity; the pools that said so are marked unavailable.
	Create(ctx context.Context, nc *v1.NodeClaim, nodeClass *v1.EC2NodeClass, types []*scheduling.InstanceType) (*Instance, error)
	// Get describes an instance. It returns a
	// *cloudprovider.NodeClaimNotFoundError when the instance does not
	// exist or is terminated.
	Get(ctx context.Context, id string) (ec2types.Instance, error)
	// List describes the cluster's pending and running instances that
	// nodewright launched.
	List(ctx context.Context) ([]ec2types.Instance, error)
	// Delete terminates an instance. It returns a
	// *cloudprovider.NodeClaimNotFoundError when the instance does not
	// exist, is terminated, or is shutting down already (its termination
	// was asked for), and then makes no TerminateInstances call.
	Delete(ctx context.Context, id string) error
}

// Instance is what Create launched.
type Instance struct {
	ID, Type, Zone, CapacityType, ImageID string
}

// Options are the cluster instances are tagged for and how wide a launch is.
type Options struct {
	ClusterName string
	// MaxFleetOverrides caps the offerings one CreateFleet tries.
	MaxFleetOverrides int
}

// DefaultProvider is the Provider on EC2.
type DefaultProvider struct {
	opts            Options
	ec2             EC2API
	launchTemplates launchtemplate.Provider
	unavailable     *cache.UnavailableOfferings
}

var _ Provider = (*DefaultProvider)(nil)

// NewDefaultProvider launches with the client given, from templates
// launchTemplates makes, and marks in unavailable the pools that report
// no capacity.
func NewDefaultProvider(opts Options, e EC2API, launchTemplates launchtemplate.Provider, unavailable *cache.UnavailableOfferings) *DefaultProvider {
	return &DefaultProvider{opts: opts, ec2: e, launchTemplates: launchTemplates, unavailable: unavailable}
}

// Get implements Provider.
func (p *DefaultProvider) Get(ctx context.Context, id string) (ec2types.Instance, error) {
	out, err := p.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		if awsapi.ErrorCode(err) == "InvalidInstanceID.NotFound" {
			return ec2types.Instance{}, cloudprovider.NewNodeClaimNotFoundError(fmt.Errorf("instance %s does not exist", id))
		}
		return ec2types.Instance{}, fmt.Errorf("describing instance %s: %w", id, err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if aws.ToString(in.InstanceId) != id {
				continue
			}
			if in.State != nil && in.State.Name == ec2types.InstanceStateNameTerminated {
				return ec2types.Instance{}, cloudprovider.NewNodeClaimNotFoundError(fmt.Errorf("instance %s is terminated", id))
			}
			return in, nil
		}
	}
	return ec2types.Instance{}, cloudprovider.NewNodeClaimNotFoundError(fmt.Errorf("instance %s does not exist", id))
}

// List implements Provider.
func (p *DefaultProvider) List(ctx context.Context) ([]ec2types.Instance, error) {
	pages := ec2.NewDescribeInstancesPaginator(p.ec2, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		awsapi.Filter("tag-key", awsapi.ClusterTag(p.opts.ClusterName)),
		awsapi.Filter("tag-key", v1.NodePoolTagKey),
		awsapi.Filter("instance-state-name", "pending", "running"),
	}})
	var out []ec2types.Instance
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing instances: %w", err)
		}
		for _, r := range page.Reservations {
			out = append(out, r.Instances...)
		}
	}
	return out, nil
}

// Delete implements Provider. It reads the instance's state first, as
// Karpenter's AWS provider does, because two controllers reach every
// instance that goes (the Node's termination and the claim's finalizer)
// and the second can act on a cached claim that does not yet say the
// first one terminated it: one DescribeInstances is cheaper than a second
// TerminateInstances, a mutation.
func (p *DefaultProvider) Delete(ctx context.Context, id string) error {
	in, err := p.Get(ctx, id)
	if err != nil {
		return err
	}
	if in.State != nil && in.State.Name == ec2types.InstanceStateNameShuttingDown {
		return cloudprovider.NewNodeClaimNotFoundError(fmt.Errorf("instance %s is shutting down already", id))
	}
	out, err := p.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		if awsapi.ErrorCode(err) == "InvalidInstanceID.NotFound" {
			return cloudprovider.NewNodeClaimNotFoundError(fmt.Errorf("instance %s does not exist", id))
		}
		return fmt.Errorf("terminating instance %s: %w", id, err)
	}
	for _, c := range out.TerminatingInstances {
		if aws.ToString(c.InstanceId) == id && c.PreviousState != nil && c.PreviousState.Name == ec2types.InstanceStateNameTerminated {
			return cloudprovider.NewNodeClaimNotFoundError(fmt.Errorf("instance %s is already terminated", id))
		}
	}
	return nil
}
