package instance

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/providers/internal/awsapi"
	"github.com/nodewright/nodewright/controller/providers/launchtemplate"
	"github.com/nodewright/nodewright/controller/providers/nodeclass"
	"github.com/nodewright/nodewright/controller/utils/resources"
)

// candidate is one offering a NodeClaim may launch into.
type candidate struct {
	typ      *scheduling.InstanceType
	offering scheduling.Offering
}

// Create implements Provider.
func (p *DefaultProvider) Create(ctx context.Context, nc *v1.NodeClaim, nodeClass *v1.EC2NodeClass, types []*scheduling.InstanceType) (*Instance, error) {
	cands, err := candidates(nc, types)
	if err != nil {
		return nil, err
	}
	if len(cands) == 0 {
		return nil, &cloudprovider.InsufficientCapacityError{Err: fmt.Errorf("no available offering satisfies nodeclaim %s's requirements", nc.Name)}
	}
	// Spot first when allowed and offered: the fleet falls back to on-demand
	// when spot has no capacity.
	byCap := map[string][]candidate{}
	for _, c := range cands {
		byCap[c.offering.CapacityType] = append(byCap[c.offering.CapacityType], c)
	}
	var errs []error
	for _, capType := range []string{v1.CapacityTypeSpot, v1.CapacityTypeOnDemand} {
		if len(byCap[capType]) == 0 {
			continue
		}
		out, err := p.launch(ctx, nc, nodeClass, capType, byCap[capType])
		if err == nil {
			return out, nil
		}
		errs = append(errs, err)
		if !cloudprovider.IsInsufficientCapacityError(err) {
			return nil, errors.Join(errs...)
		}
	}
	return nil, &cloudprovider.InsufficientCapacityError{Err: errors.Join(errs...)}
}

// candidates are the available offerings the NodeClaim's requirements and
// requests allow, cheapest first.
func candidates(nc *v1.NodeClaim, types []*scheduling.InstanceType) ([]candidate, error) {
	var raw []corev1.NodeSelectorRequirement
	for _, r := range nc.Spec.Requirements {
		raw = append(raw, corev1.NodeSelectorRequirement{Key: r.Key, Operator: r.Operator, Values: r.Values})
	}
	reqs, err := scheduling.NewRequirements(raw...)
	if err != nil {
		return nil, fmt.Errorf("nodeclaim %s requirements: %w", nc.Name, err)
	}
	var out []candidate
	for _, it := range types {
		if !reqs.Allows(it.Labels) || !resources.Fits(nc.Spec.Resources.Requests, it.Allocatable) {
			continue
		}
		for _, o := range it.Offerings {
			if !o.Available {
				continue
			}
			if r, ok := reqs[corev1.LabelTopologyZone]; ok && !r.Has(o.Zone) {
				continue
			}
			if r, ok := reqs[v1.CapacityTypeLabelKey]; ok && !r.Has(o.CapacityType) {
				continue
			}
			out = append(out, candidate{typ: it, offering: o})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].offering.Price != out[j].offering.Price {
			return out[i].offering.Price < out[j].offering.Price
		}
		if out[i].typ.Name != out[j].typ.Name {
			return out[i].typ.Name < out[j].typ.Name
		}
		return out[i].offering.Zone < out[j].offering.Zone
	})
	return out, nil
}

// launch runs one instant fleet of one capacity type over the cheapest
// candidates. The client token is the NodeClaim's UID (per capacity type),
// so a retried Create gets the instance the first one launched.
func (p *DefaultProvider) launch(ctx context.Context, nc *v1.NodeClaim, nodeClass *v1.EC2NodeClass, capType string, cands []candidate) (*Instance, error) {
	if len(cands) > p.opts.MaxFleetOverrides {
		cands = cands[:p.opts.MaxFleetOverrides]
	}
	subnetOf := map[string]string{}
	for _, s := range nodeClass.Status.Subnets {
		if _, ok := subnetOf[s.Zone]; !ok {
			subnetOf[s.Zone] = s.ID
		}
	}
	userData, err := p.launchTemplates.UserData(nc, nodeClass)
	if err != nil {
		return nil, fmt.Errorf("rendering userData for nodeclaim %s: %w", nc.Name, err)
	}
	// One launch template config per image (architecture), each with the
	// overrides it can run.
	configs := map[string]*ec2types.FleetLaunchTemplateConfigRequest{}
	templateImage := map[string]string{}
	var order []string
	for _, c := range cands {
		image, ok := nodeclass.ImageFor(nodeClass.Status.AMIs, c.typ.Labels)
		if !ok {
			continue
		}
		cfg, ok := configs[image]
		if !ok {
			name, err := p.launchTemplates.Ensure(ctx, nodeClass, image, userData)
			if err != nil {
				return nil, err
			}
			templateImage[name] = image
			cfg = &ec2types.FleetLaunchTemplateConfigRequest{LaunchTemplateSpecification: &ec2types.FleetLaunchTemplateSpecificationRequest{
				LaunchTemplateName: aws.String(name), Version: aws.String("$Latest")}}
			configs[image] = cfg
			order = append(order, image)
		}
		cfg.Overrides = append(cfg.Overrides, ec2types.FleetLaunchTemplateOverridesRequest{
			InstanceType: ec2types.InstanceType(c.typ.Name), SubnetId: aws.String(subnetOf[c.offering.Zone]),
		})
	}
	if len(configs) == 0 {
		return nil, &cloudprovider.InsufficientCapacityError{Err: fmt.Errorf("no image for the architectures of nodeclaim %s's offerings", nc.Name)}
	}
	in := &ec2.CreateFleetInput{
		Type:        ec2types.FleetTypeInstant,
		ClientToken: aws.String(string(nc.UID) + "-" + capType),
		TargetCapacitySpecification: &ec2types.TargetCapacitySpecificationRequest{
			TotalTargetCapacity: aws.Int32(1), DefaultTargetCapacityType: ec2types.DefaultTargetCapacityType(capType),
		},
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeInstance, Tags: awsapi.Tags(p.instanceTags(nc, nodeClass))},
			{ResourceType: ec2types.ResourceTypeVolume, Tags: awsapi.Tags(p.instanceTags(nc, nodeClass))},
			{ResourceType: ec2types.ResourceTypeFleet, Tags: awsapi.Tags(p.instanceTags(nc, nodeClass))},
		},
	}
	if capType == v1.CapacityTypeSpot {
		in.SpotOptions = &ec2types.SpotOptionsRequest{AllocationStrategy: ec2types.SpotAllocationStrategyPriceCapacityOptimized}
	} else {
		in.OnDemandOptions = &ec2types.OnDemandOptionsRequest{AllocationStrategy: ec2types.FleetOnDemandAllocationStrategyLowestPrice}
	}
	for _, image := range order {
		in.LaunchTemplateConfigs = append(in.LaunchTemplateConfigs, *configs[image])
	}
	out, err := p.ec2.CreateFleet(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("creating fleet for nodeclaim %s: %w", nc.Name, err)
	}
	logger := log.FromContext(ctx).WithValues("nodeclaim", nc.Name, "capacityType", capType)
	var failures []string
	for _, e := range out.Errors {
		code := aws.ToString(e.ErrorCode)
		typ, zone := "", ""
		if o := e.LaunchTemplateAndOverrides; o != nil && o.Overrides != nil {
			typ, zone = string(o.Overrides.InstanceType), aws.ToString(o.Overrides.AvailabilityZone)
			if zone == "" {
				zone = zoneOfSubnet(nodeClass, aws.ToString(o.Overrides.SubnetId))
			}
			if o.LaunchTemplateSpecification != nil && strings.HasPrefix(code, "InvalidLaunchTemplate") {
				p.launchTemplates.Invalidate(aws.ToString(o.LaunchTemplateSpecification.LaunchTemplateName))
			}
		}
		if isCapacityError(code) && typ != "" && zone != "" {
			p.unavailable.Mark(typ, zone, capType)
			logger.Info("pool out of capacity", "instanceType", typ, "zone", zone, "code", code)
		}
		failures = append(failures, fmt.Sprintf("%s %s: %s", typ, zone, code))
	}
	for _, inst := range out.Instances {
		if len(inst.InstanceIds) == 0 {
			continue
		}
		zone := zoneOfSubnet(nodeClass, "")
		typ := string(inst.InstanceType)
		image := ""
		if o := inst.LaunchTemplateAndOverrides; o != nil {
			if o.Overrides != nil {
				zone = aws.ToString(o.Overrides.AvailabilityZone)
				if zone == "" {
					zone = zoneOfSubnet(nodeClass, aws.ToString(o.Overrides.SubnetId))
				}
				if o.Overrides.ImageId != nil {
					image = aws.ToString(o.Overrides.ImageId)
				}
			}
			if image == "" && o.LaunchTemplateSpecification != nil {
				image = templateImage[aws.ToString(o.LaunchTemplateSpecification.LaunchTemplateName)]
			}
		}
		price := 0.0
		for _, c := range cands {
			if c.typ.Name == typ && c.offering.Zone == zone {
				price = c.offering.Price
			}
			// The fleet's echo names the template; should it not, the image
			// still follows from the type, as it did for the request.
			if image == "" && c.typ.Name == typ {
				image, _ = nodeclass.ImageFor(nodeClass.Status.AMIs, c.typ.Labels)
			}
		}
		id := inst.InstanceIds[0]
		logger.V(1).Info("fleet returned instance", "id", id, "instanceType", typ, "zone", zone, "price", price)
		return &Instance{ID: id, Type: typ, Zone: zone, CapacityType: capType, ImageID: image}, nil
	}
	err = fmt.Errorf("fleet launched no %s instance for nodeclaim %s: %s", capType, nc.Name, strings.Join(failures, "; "))
	allCapacity := true
	for _, e := range out.Errors {
		allCapacity = allCapacity && isCapacityError(aws.ToString(e.ErrorCode))
	}
	if allCapacity {
		return nil, &cloudprovider.InsufficientCapacityError{Err: err}
	}
	return nil, err
}

func isCapacityError(code string) bool {
	switch code {
	case "InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientReservedInstanceCapacity",
		"InsufficientCapacity", "UnfulfillableCapacity", "MaxSpotInstanceCountExceeded", "SpotMaxPriceTooLow":
		return true
	}
	return false
}

func zoneOfSubnet(nc *v1.EC2NodeClass, id string) string {
	for _, s := range nc.Status.Subnets {
		if s.ID == id {
			return s.Zone
		}
	}
	return ""
}

// instanceTags: the node class's tags, then nodewright's, which win.
func (p *DefaultProvider) instanceTags(nc *v1.NodeClaim, nodeClass *v1.EC2NodeClass) map[string]string {
	tags := launchtemplate.NodeClassTags(p.opts.ClusterName, nodeClass)
	tags[v1.NodeClaimTagKey] = nc.Name
	if np := nc.Labels[v1.NodePoolLabelKey]; np != "" {
		tags[v1.NodePoolTagKey] = np
	}
	tags["Name"] = nc.Name
	return tags
}
