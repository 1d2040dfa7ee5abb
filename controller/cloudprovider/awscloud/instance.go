package awscloud

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/providers/instancetype"
)

// ProviderID is the Kubernetes provider id of an instance.
func ProviderID(zone, instanceID string) string { return "aws:///" + zone + "/" + instanceID }

// ParseProviderID returns the instance id of aws:///<zone>/<id>.
func ParseProviderID(providerID string) (string, error) {
	rest, ok := strings.CutPrefix(providerID, "aws:///")
	if !ok {
		return "", fmt.Errorf("provider id %q is not aws:///<zone>/<instance-id>", providerID)
	}
	_, id, ok := strings.Cut(rest, "/")
	if !ok || !strings.HasPrefix(id, "i-") {
		return "", fmt.Errorf("provider id %q is not aws:///<zone>/<instance-id>", providerID)
	}
	return id, nil
}

// launched builds the NodeClaim Create returns.
func (p *CloudProvider) launched(ctx context.Context, nc *v1.NodeClaim, nodeClass *v1.EC2NodeClass, id, typ, zone, capType, image string) (*v1.NodeClaim, error) {
	out := nc.DeepCopy()
	maxPods := 0
	if k := nodeClass.Spec.Kubelet; k != nil && k.MaxPods != nil {
		maxPods = int(*k.MaxPods)
	}
	p.describe(ctx, out, typ, zone, capType, maxPods)
	out.Status.ProviderID = ProviderID(zone, id)
	out.Status.ImageID = image
	// launch puts the instance in the node class's first subnet of its zone,
	// with all of the node class's groups.
	subnet := ""
	for _, s := range nodeClass.Status.Subnets {
		if s.Zone == zone {
			subnet = s.ID
			break
		}
	}
	groups := make([]string, 0, len(nodeClass.Status.SecurityGroups))
	for _, g := range nodeClass.Status.SecurityGroups {
		groups = append(groups, g.ID)
	}
	recordNetwork(out, subnet, groups)
	return out, nil
}

// recordNetwork notes an instance's subnet and security groups on its
// NodeClaim, for drift detection.
func recordNetwork(nc *v1.NodeClaim, subnet string, groups []string) {
	if nc.Annotations == nil {
		nc.Annotations = map[string]string{}
	}
	if subnet != "" {
		nc.Annotations[v1.SubnetIDAnnotationKey] = subnet
	}
	if len(groups) > 0 {
		groups = slices.Clone(groups)
		slices.Sort(groups)
		nc.Annotations[v1.SecurityGroupIDsAnnotationKey] = strings.Join(slices.Compact(groups), ",")
	}
}

// describe sets the labels and resources of an instance type on a NodeClaim.
func (p *CloudProvider) describe(ctx context.Context, nc *v1.NodeClaim, typ, zone, capType string, maxPods int) {
	if nc.Labels == nil {
		nc.Labels = map[string]string{}
	}
	if it, ok := p.instanceTypes.Get(ctx, typ); ok {
		for k, v := range instancetype.Labels(it, p.opts.Region) {
			nc.Labels[k] = v
		}
		nc.Status.Capacity, nc.Status.Allocatable = catalog.Resources(it, maxPods)
	}
	nc.Labels[corev1.LabelInstanceTypeStable] = typ
	nc.Labels[corev1.LabelTopologyZone] = zone
	nc.Labels[corev1.LabelTopologyRegion] = p.opts.Region
	nc.Labels[v1.CapacityTypeLabelKey] = capType
}

// Get implements cloudprovider.CloudProvider.
func (p *CloudProvider) Get(ctx context.Context, providerID string) (*v1.NodeClaim, error) {
	id, err := ParseProviderID(providerID)
	if err != nil {
		return nil, err
	}
	out, err := p.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		if apiCode(err) == "InvalidInstanceID.NotFound" {
			return nil, cloudprovider.NewNodeClaimNotFoundError(fmt.Errorf("instance %s does not exist", id))
		}
		return nil, fmt.Errorf("describing instance %s: %w", id, err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if aws.ToString(in.InstanceId) != id {
				continue
			}
			if in.State != nil && in.State.Name == ec2types.InstanceStateNameTerminated {
				return nil, cloudprovider.NewNodeClaimNotFoundError(fmt.Errorf("instance %s is terminated", id))
			}
			return p.toNodeClaim(ctx, in), nil
		}
	}
	return nil, cloudprovider.NewNodeClaimNotFoundError(fmt.Errorf("instance %s does not exist", id))
}

// List implements cloudprovider.CloudProvider: the cluster's pending and
// running instances that nodewright launched.
func (p *CloudProvider) List(ctx context.Context) ([]*v1.NodeClaim, error) {
	pages := ec2.NewDescribeInstancesPaginator(p.ec2, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		filter("tag-key", p.clusterTag()),
		filter("tag-key", v1.NodePoolTagKey),
		filter("instance-state-name", "pending", "running"),
	}})
	var out []*v1.NodeClaim
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing instances: %w", err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				out = append(out, p.toNodeClaim(ctx, in))
			}
		}
	}
	return out, nil
}

func (p *CloudProvider) toNodeClaim(ctx context.Context, in ec2types.Instance) *v1.NodeClaim {
	tags := map[string]string{}
	for _, t := range in.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	nc := &v1.NodeClaim{ObjectMeta: metav1.ObjectMeta{Name: tags[v1.NodeClaimTagKey], Labels: map[string]string{}}}
	if np := tags[v1.NodePoolTagKey]; np != "" {
		nc.Labels[v1.NodePoolLabelKey] = np
	}
	if name := tags[v1.EC2NodeClassTagKey]; name != "" {
		nc.Spec.NodeClassRef = &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: name}
	}
	zone := ""
	if in.Placement != nil {
		zone = aws.ToString(in.Placement.AvailabilityZone)
	}
	capType := v1.CapacityTypeOnDemand
	if in.InstanceLifecycle == ec2types.InstanceLifecycleTypeSpot {
		capType = v1.CapacityTypeSpot
	}
	p.describe(ctx, nc, string(in.InstanceType), zone, capType, 0)
	nc.Status.ProviderID = ProviderID(zone, aws.ToString(in.InstanceId))
	nc.Status.ImageID = aws.ToString(in.ImageId)
	var groups []string
	for _, g := range in.SecurityGroups {
		groups = append(groups, aws.ToString(g.GroupId))
	}
	recordNetwork(nc, aws.ToString(in.SubnetId), groups)
	if in.LaunchTime != nil {
		nc.CreationTimestamp = metav1.NewTime(*in.LaunchTime)
	}
	return nc
}

// Delete implements cloudprovider.CloudProvider.
func (p *CloudProvider) Delete(ctx context.Context, nc *v1.NodeClaim) error {
	id, err := ParseProviderID(nc.Status.ProviderID)
	if err != nil {
		return fmt.Errorf("deleting nodeclaim %s: %w", nc.Name, err)
	}
	out, err := p.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		if apiCode(err) == "InvalidInstanceID.NotFound" {
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
