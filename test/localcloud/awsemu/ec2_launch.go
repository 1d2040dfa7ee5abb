package awsemu

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/nodewright/nodewright/controller/catalog"
)

// ---- launching ----

// launchSpec is everything one launched instance needs.
type launchSpec struct {
	typ          *catalog.InstanceType
	subnet       *Subnet
	capacityType string
	imageID      string
	userData     string
	groups       []string
	profileARN   string
	lt           *LaunchTemplate
	ltVersion    string
	tags         map[string]string
	volumeTags   map[string]string
	spotPrice    float64
	reservation  string
	// details are kept for DescribeInstances; LaunchIndex is set per instance.
	details LaunchDetails
}

// specFromLT fills the launch template's part of a spec.
func (s *Server) specFromLT(lt *LaunchTemplate, version string) launchSpec {
	d := lt.Data
	sp := launchSpec{lt: lt, ltVersion: "1", imageID: d.ImageID, userData: d.UserData, groups: d.SecurityGroupIDs,
		profileARN: d.IamInstanceProfile.arn(), tags: tagsFromSpecs(d.TagSpecifications, "instance"),
		volumeTags: tagsFromSpecs(d.TagSpecifications, "volume")}
	for _, name := range d.SecurityGroupNames {
		for _, g := range s.ec2().SecurityGroups {
			if g.Name == name {
				sp.groups = append(sp.groups, g.ID)
			}
		}
	}
	sp.details = LaunchDetails{KeyName: d.KeyName, Metadata: d.MetadataOptions, ENITags: tagsFromSpecs(d.TagSpecifications, "network-interface")}
	for _, m := range d.BlockDeviceMappings {
		if m.DeviceName != "" {
			sp.details.Devices = append(sp.details.Devices, LaunchDevice{Name: m.DeviceName, DeleteOnTermination: m.Ebs.DeleteOnTermination != "false",
				SizeGiB: m.Ebs.VolumeSize})
		}
	}
	sp.tags["aws:ec2launchtemplate:id"] = lt.ID
	sp.tags["aws:ec2launchtemplate:version"] = "1"
	return sp
}

// checkSpec finds what AWS would refuse about a launch in a pool.
func (s *Server) checkSpec(sp *launchSpec) *Error {
	if sp.imageID == "" {
		return errMissingParameter("ImageId")
	}
	im := s.imageByID(sp.imageID)
	if im == nil {
		return Errorf(400, "InvalidAMIID.NotFound", "The image id '[%s]' does not exist", sp.imageID)
	}
	if arch := ec2Arch(sp.typ.Architecture); arch != im.Architecture {
		return errInvalidParameterValue("The architecture '%s' of the specified instance type does not match the architecture '%s' of the specified AMI.", arch, im.Architecture)
	}
	if !s.offered(sp.typ.Name, sp.subnet.Zone) {
		return Errorf(400, "Unsupported", "Your requested instance type (%s) is not supported in your requested Availability Zone (%s).", sp.typ.Name, sp.subnet.Zone)
	}
	for _, g := range sp.groups {
		if s.groupByID(g) == nil {
			return Errorf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", g)
		}
	}
	if s.faults.ICE[PoolKey(sp.typ.Name, sp.subnet.Zone, sp.capacityType)] {
		return Errorf(500, "InsufficientInstanceCapacity", "We currently do not have sufficient %s capacity in the Availability Zone you requested (%s). Our system will be working on provisioning additional capacity.", sp.typ.Name, sp.subnet.Zone)
	}
	return nil
}

// launchLocked creates one pending instance from a checked spec.
func (s *Server) launchLocked(sp launchSpec, now time.Time) *Instance {
	st := s.ec2()
	sn := sp.subnet
	host := sn.NextHost
	sn.NextHost++
	if sn.NextHost >= subnetSize-1 {
		sn.NextHost = 4
	}
	sn.Used++
	third, fourth := sn.Third+host/256, host%256
	ip := fmt.Sprintf("10.0.%d.%d", third, fourth)
	dns := fmt.Sprintf("ip-10-0-%d-%d.%s.compute.internal", third, fourth, s.world.Region)
	if s.world.Region == "us-east-1" {
		dns = fmt.Sprintf("ip-10-0-%d-%d.ec2.internal", third, fourth)
	}
	groups := sp.groups
	if len(groups) == 0 {
		groups = []string{st.SecurityGroups[0].ID}
	}
	tags := map[string]string{}
	for k, v := range sp.tags {
		tags[k] = v
	}
	in := &Instance{ID: newID("i"), Type: sp.typ.Name, Zone: sn.Zone, SubnetID: sn.ID, CapacityType: sp.capacityType,
		State: "", StateChangeAt: now.Add(s.world.Options.Timing.PendingToRunning), LaunchTime: now,
		ImageID: sp.imageID, Architecture: ec2Arch(sp.typ.Architecture), PrivateIP: ip, PrivateDNS: dns,
		SecurityGroups: append([]string(nil), groups...), UserData: sp.userData, InstanceProfileARN: sp.profileARN,
		SpotPrice: sp.spotPrice, Tags: tags}
	if sp.lt != nil {
		in.LaunchTemplateID = sp.lt.ID
	}
	if s.faults.NeverJoin > 0 {
		s.faults.NeverJoin--
		in.NeverJoin = true
	}
	st.Instances[in.ID] = in
	st.Reservations[in.ID] = sp.reservation
	details := sp.details
	details.Devices = rootFirst(details.Devices)
	if st.Launches == nil { // a world saved before launches were kept
		st.Launches = map[string]*LaunchDetails{}
	}
	st.Launches[in.ID] = &details
	if len(sp.volumeTags) > 0 {
		st.VolumeTags[in.ID] = sp.volumeTags
	}
	s.setStateLocked(in, "pending", now)
	in.StateChangeAt = now.Add(s.world.Options.Timing.PendingToRunning)
	return in
}

// ---- CreateFleet ----

type fleetOverrides struct {
	InstanceType     string   `xml:"instanceType,omitempty" json:"instanceType,omitempty"`
	SubnetID         string   `xml:"subnetId,omitempty" json:"subnetId,omitempty" query:"SubnetId"`
	AvailabilityZone string   `xml:"availabilityZone,omitempty" json:"availabilityZone,omitempty"`
	Priority         *float64 `xml:"priority,omitempty" json:"priority,omitempty"`
	MaxPrice         string   `xml:"maxPrice,omitempty" json:"maxPrice,omitempty"`
	ImageID          string   `xml:"imageId,omitempty" json:"imageId,omitempty" query:"ImageId"`
	WeightedCapacity float64  `xml:"weightedCapacity,omitempty" json:"weightedCapacity,omitempty"`
}

type fleetLTSpec struct {
	LaunchTemplateID   string `xml:"launchTemplateId,omitempty" json:"launchTemplateId,omitempty" query:"LaunchTemplateId"`
	LaunchTemplateName string `xml:"launchTemplateName,omitempty" json:"launchTemplateName,omitempty"`
	Version            string `xml:"version,omitempty" json:"version,omitempty"`
}

type ltAndOverrides struct {
	Spec      fleetLTSpec    `xml:"launchTemplateSpecification" json:"launchTemplateSpecification"`
	Overrides fleetOverrides `xml:"overrides" json:"overrides"`
}

type createFleetInst struct {
	LTAndOverrides   ltAndOverrides `xml:"launchTemplateAndOverrides" json:"launchTemplateAndOverrides"`
	Lifecycle        string         `xml:"lifecycle" json:"lifecycle"`
	InstanceIDs      items[string]  `xml:"instanceIds" json:"instanceIds"`
	InstanceType     string         `xml:"instanceType" json:"instanceType"`
	SubnetID         string         `xml:"subnetId,omitempty" json:"subnetId,omitempty"`
	AvailabilityZone string         `xml:"availabilityZone,omitempty" json:"availabilityZone,omitempty"`
	Platform         string         `xml:"platform,omitempty" json:"platform,omitempty"`
}

type createFleetError struct {
	LTAndOverrides ltAndOverrides `xml:"launchTemplateAndOverrides" json:"launchTemplateAndOverrides"`
	Lifecycle      string         `xml:"lifecycle" json:"lifecycle"`
	ErrorCode      string         `xml:"errorCode" json:"errorCode"`
	ErrorMessage   string         `xml:"errorMessage" json:"errorMessage"`
}

type createFleetOut struct {
	FleetID   string                  `xml:"fleetId"`
	Errors    items[createFleetError] `xml:"errorSet"`
	Instances items[createFleetInst]  `xml:"fleetInstanceSet"`
}

type fleetInput struct {
	DryRun                bool
	ClientToken           string
	Type                  string
	LaunchTemplateConfigs []struct {
		LaunchTemplateSpecification fleetLTSpec
		Overrides                   []fleetOverrides
	}
	TargetCapacitySpecification struct {
		TotalTargetCapacity       int
		DefaultTargetCapacityType string
		SpotTargetCapacity        int
		OnDemandTargetCapacity    int
	}
	SpotOptions       struct{ AllocationStrategy string }
	OnDemandOptions   struct{ AllocationStrategy string }
	TagSpecifications []TagSpecification `query:"TagSpecification"`
}

// pool is one (launch template, type, subnet) candidate of a fleet.
type pool struct {
	spec     launchSpec
	echo     ltAndOverrides
	price    float64
	priority float64
	capacity uint64
	err      *Error
}

func (s *Server) ec2CreateFleet(c *Call, in *fleetInput) (*createFleetOut, error) {
	switch in.Type {
	case "instant":
	case "", "maintain", "request":
		return nil, Errorf(400, "Unsupported", "The local cloud supports only fleets of type instant, not %q", in.Type)
	default:
		return nil, errInvalidParameterValue("Value (%s) for parameter Type is invalid. Valid values: request, maintain, instant", in.Type)
	}
	if len(in.LaunchTemplateConfigs) == 0 {
		return nil, errMissingParameter("LaunchTemplateConfigs")
	}
	tcs := in.TargetCapacitySpecification
	if tcs.TotalTargetCapacity <= 0 {
		return nil, errInvalidParameterValue("TotalTargetCapacity must be at least 1")
	}
	capType := tcs.DefaultTargetCapacityType
	switch capType {
	case "":
		capType = "on-demand"
	case "spot", "on-demand":
	default:
		return nil, errInvalidParameterValue("Value (%s) for parameter DefaultTargetCapacityType is invalid. Valid values: spot, on-demand, capacity-block", capType)
	}
	strategy := in.SpotOptions.AllocationStrategy
	if capType == "on-demand" {
		strategy = in.OnDemandOptions.AllocationStrategy
		switch strategy {
		case "", "lowest-price", "prioritized":
		default:
			return nil, errInvalidParameterValue("Value (%s) for parameter OnDemandOptions.AllocationStrategy is invalid", strategy)
		}
	} else {
		switch strategy {
		case "", "lowest-price", "price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "diversified":
		default:
			return nil, errInvalidParameterValue("Value (%s) for parameter SpotOptions.AllocationStrategy is invalid", strategy)
		}
	}
	if err := validateTagSpecs(in.TagSpecifications, "instance", "volume", "fleet"); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	st := s.ec2()
	if rec, ok := st.Fleets[in.ClientToken]; ok && in.ClientToken != "" {
		return &createFleetOut{FleetID: rec.FleetID, Errors: items[createFleetError]{rec.Errors}, Instances: items[createFleetInst]{rec.Instances}}, nil
	}
	now := s.clock.Now()
	out := createFleetOut{FleetID: "fleet-" + newID("x")[2:10] + "-" + newID("x")[2:6] + "-" + newID("x")[2:6] + "-" + newID("x")[2:6] + "-" + newID("x")[2:14]}
	reservation := newID("r")

	var pools []*pool
	for _, cfg := range in.LaunchTemplateConfigs {
		spec := cfg.LaunchTemplateSpecification
		lt, lterr := s.resolveLT(spec.LaunchTemplateID, spec.LaunchTemplateName)
		if lterr == nil {
			lterr = checkLTVersion(lt, spec.Version)
		}
		overrides := cfg.Overrides
		if len(overrides) == 0 {
			overrides = []fleetOverrides{{}}
		}
		for _, ov := range overrides {
			echo := ltAndOverrides{Spec: spec, Overrides: ov}
			if lterr != nil {
				out.Errors.Item = append(out.Errors.Item, createFleetError{echo, capType, lterr.Code, lterr.Message})
				continue
			}
			base := s.specFromLT(lt, spec.Version)
			for k, v := range tagsFromSpecs(in.TagSpecifications, "instance") {
				base.tags[k] = v
			}
			for k, v := range tagsFromSpecs(in.TagSpecifications, "volume") {
				base.volumeTags[k] = v
			}
			base.capacityType, base.reservation = capType, reservation
			typeName := ov.InstanceType
			if typeName == "" {
				typeName = lt.Data.InstanceType
			}
			if ov.ImageID != "" {
				base.imageID = ov.ImageID
			}
			it := s.catalog.ByName[typeName]
			if it == nil {
				out.Errors.Item = append(out.Errors.Item, createFleetError{echo, capType, "InvalidFleetConfiguration",
					fmt.Sprintf("The instance type %q is not valid.", typeName)})
				continue
			}
			base.typ = it
			var subnets []*Subnet
			switch {
			case ov.SubnetID != "":
				sn := s.subnetByID(ov.SubnetID)
				if sn == nil {
					out.Errors.Item = append(out.Errors.Item, createFleetError{echo, capType, "InvalidSubnetID.NotFound",
						fmt.Sprintf("The subnet ID '%s' does not exist", ov.SubnetID)})
					continue
				}
				subnets = []*Subnet{sn}
			case ov.AvailabilityZone != "":
				sn := s.subnetInZone(ov.AvailabilityZone)
				if sn == nil {
					out.Errors.Item = append(out.Errors.Item, createFleetError{echo, capType, "InvalidParameterValue",
						fmt.Sprintf("Invalid availability zone: [%s]", ov.AvailabilityZone)})
					continue
				}
				subnets = []*Subnet{sn}
			default:
				subnets = st.Subnets
			}
			for _, sn := range subnets {
				sp := base
				sp.subnet = sn
				e := echo
				e.Overrides.InstanceType, e.Overrides.SubnetID, e.Overrides.AvailabilityZone = it.Name, sn.ID, sn.Zone
				// Overrides without a priority come last, as in EC2.
				p := &pool{spec: sp, echo: e, priority: 1e9, capacity: hash64("capacity/" + PoolKey(it.Name, sn.Zone, capType))}
				if ov.Priority != nil {
					p.priority = *ov.Priority
				}
				if capType == "spot" {
					price, ok := s.spotPrice(it, sn.Zone, now)
					if !ok {
						p.err = Errorf(400, "UnfulfillableCapacity", "There is no Spot capacity available that matches your request.")
					}
					p.price, p.spec.spotPrice = price, price
					if ov.MaxPrice != "" {
						if maxp, err := strconv.ParseFloat(ov.MaxPrice, 64); err == nil && price > maxp {
							p.err = Errorf(400, "SpotMaxPriceTooLow", "Your Spot request price of %s is lower than the minimum required Spot request fulfillment price of %s.", ov.MaxPrice, formatPrice(price))
						}
					}
				} else {
					p.price, _ = it.Price(s.world.Region)
				}
				if p.err == nil {
					p.err = s.checkSpec(&p.spec)
				}
				pools = append(pools, p)
			}
		}
	}
	orderPools(pools, capType, strategy)

	remaining := tcs.TotalTargetCapacity
	for _, p := range pools {
		if remaining == 0 {
			break
		}
		if p.err != nil {
			out.Errors.Item = append(out.Errors.Item, createFleetError{p.echo, capType, p.err.Code, p.err.Message})
			continue
		}
		group := createFleetInst{LTAndOverrides: p.echo, Lifecycle: capType, InstanceType: p.spec.typ.Name,
			SubnetID: p.spec.subnet.ID, AvailabilityZone: p.spec.subnet.Zone}
		for ; remaining > 0; remaining-- {
			inst := s.launchLocked(p.spec, now)
			group.InstanceIDs.Item = append(group.InstanceIDs.Item, inst.ID)
		}
		out.Instances.Item = append(out.Instances.Item, group)
	}
	if in.ClientToken != "" {
		st.Fleets[in.ClientToken] = &FleetRecord{FleetID: out.FleetID, Instances: out.Instances.Item, Errors: out.Errors.Item,
			Tags: tagsFromSpecs(in.TagSpecifications, "fleet"), Created: now}
	}
	return &out, nil
}

// orderPools sorts pools in the order the allocation strategy tries them.
// Capacity is modelled by a stable hash per pool: "capacity-optimized"
// prefers the highest, "price-capacity-optimized" takes the deepest of the
// three cheapest pools first, then the rest by price.
func orderPools(pools []*pool, capType, strategy string) {
	byPrice := func(i, j int) bool {
		if pools[i].price != pools[j].price {
			return pools[i].price < pools[j].price
		}
		return pools[i].capacity > pools[j].capacity
	}
	switch strategy {
	case "prioritized", "capacity-optimized-prioritized":
		sort.SliceStable(pools, func(i, j int) bool {
			if pools[i].priority != pools[j].priority {
				return pools[i].priority < pools[j].priority
			}
			if strategy == "prioritized" {
				return byPrice(i, j)
			}
			return pools[i].capacity > pools[j].capacity
		})
	case "capacity-optimized":
		sort.SliceStable(pools, func(i, j int) bool { return pools[i].capacity > pools[j].capacity })
	case "price-capacity-optimized":
		sort.SliceStable(pools, byPrice)
		head := pools[:min(3, len(pools))]
		sort.SliceStable(head, func(i, j int) bool { return head[i].capacity > head[j].capacity })
	default:
		sort.SliceStable(pools, byPrice)
	}
}

// rootDevice is the root device name of every image the emulator holds.
const rootDevice = "/dev/xvda"

// rootFirst puts the root volume first, adding it when the launch did not
// map it: every instance boots from an EBS root volume here.
func rootFirst(devs []LaunchDevice) []LaunchDevice {
	out := []LaunchDevice{{Name: rootDevice, DeleteOnTermination: true}}
	for _, d := range devs {
		if d.Name == rootDevice {
			out[0] = d
		} else {
			out = append(out, d)
		}
	}
	return out
}
