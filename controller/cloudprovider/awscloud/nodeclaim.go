package awscloud

// NodeClaims from instances: what Create, Get and List return.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/providers/instance"
	"github.com/nodewright/nodewright/controller/providers/instancetype"
)

// Create implements cloudprovider.CloudProvider.
func (p *CloudProvider) Create(ctx context.Context, nc *v1.NodeClaim) (*v1.NodeClaim, error) {
	if nc.Spec.NodeClassRef == nil {
		return nil, fmt.Errorf("nodeclaim %s has no nodeClassRef", nc.Name)
	}
	nodeClass, err := p.nodeClass(ctx, nc.Spec.NodeClassRef.Name)
	if err != nil {
		return nil, err
	}
	if nodeClass.Status.InstanceProfile == "" || len(nodeClass.Status.SecurityGroups) == 0 {
		return nil, &cloudprovider.NodeClassNotReadyError{Err: fmt.Errorf("EC2NodeClass %s has no resolved security groups or instance profile", nodeClass.Name)}
	}
	types, err := p.instanceTypes.List(ctx, nodeClass)
	if err != nil {
		return nil, fmt.Errorf("listing instance types for nodeclaim %s: %w", nc.Name, err)
	}
	inst, err := p.instances.Create(ctx, nc, nodeClass, types)
	if err != nil {
		return nil, err
	}
	return p.launched(ctx, nc, nodeClass, inst), nil
}

// Get implements cloudprovider.CloudProvider.
func (p *CloudProvider) Get(ctx context.Context, providerID string) (*v1.NodeClaim, error) {
	id, err := instance.ParseProviderID(providerID)
	if err != nil {
		return nil, err
	}
	in, err := p.instances.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return p.toNodeClaim(ctx, in), nil
}

// List implements cloudprovider.CloudProvider: the cluster's pending and
// running instances that nodewright launched.
func (p *CloudProvider) List(ctx context.Context) ([]*v1.NodeClaim, error) {
	instances, err := p.instances.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []*v1.NodeClaim
	for _, in := range instances {
		out = append(out, p.toNodeClaim(ctx, in))
	}
	return out, nil
}

// Delete implements cloudprovider.CloudProvider.
func (p *CloudProvider) Delete(ctx context.Context, nc *v1.NodeClaim) error {
	id, err := instance.ParseProviderID(nc.Status.ProviderID)
	if err != nil {
		return fmt.Errorf("deleting nodeclaim %s: %w", nc.Name, err)
	}
	return p.instances.Delete(ctx, id)
}

// launched builds the NodeClaim Create returns.
func (p *CloudProvider) launched(ctx context.Context, nc *v1.NodeClaim, nodeClass *v1.EC2NodeClass, inst *instance.Instance) *v1.NodeClaim {
	zone := inst.Zone
	out := nc.DeepCopy()
	p.describe(ctx, out, inst.Type, zone, inst.CapacityType, instancetype.Kubelet(nodeClass))
	out.Status.ProviderID = instance.ProviderID(zone, inst.ID)
	out.Status.ImageID = inst.ImageID
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
	// The node class as launched, for drift once its spec changes.
	out.Annotations[v1.EC2NodeClassHashAnnotationKey] = nodeClass.Hash()
	out.Annotations[v1.EC2NodeClassHashVersionAnnotationKey] = v1.EC2NodeClassHashVersion
	return out
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
func (p *CloudProvider) describe(ctx context.Context, nc *v1.NodeClaim, typ, zone, capType string, kubelet catalog.Kubelet) {
	if nc.Labels == nil {
		nc.Labels = map[string]string{}
	}
	if it, ok := p.instanceTypes.Get(ctx, typ); ok {
		for k, v := range instancetype.Labels(it, p.opts.Region) {
			nc.Labels[k] = v
		}
		nc.Status.Capacity, nc.Status.Allocatable = catalog.Resources(it, kubelet)
	}
	nc.Labels[corev1.LabelInstanceTypeStable] = typ
	nc.Labels[corev1.LabelTopologyZone] = zone
	nc.Labels[corev1.LabelTopologyRegion] = p.opts.Region
	nc.Labels[v1.CapacityTypeLabelKey] = capType
}

// toNodeClaim is an instance as Get and List return it.
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
	p.describe(ctx, nc, string(in.InstanceType), zone, capType, catalog.Kubelet{})
	nc.Status.ProviderID = instance.ProviderID(zone, aws.ToString(in.InstanceId))
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
