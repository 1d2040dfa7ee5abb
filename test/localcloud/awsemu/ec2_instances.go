package awsemu

import (
	"sort"
	"strings"
)

// ---- RunInstances / DescribeInstances / DescribeInstanceStatus / TerminateInstances ----

type instanceStateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

var stateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

func stateXML(name string) instanceStateXML { return instanceStateXML{stateCodes[name], name} }

type groupXML struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type instanceXML struct {
	InstanceID     string           `xml:"instanceId"`
	ImageID        string           `xml:"imageId"`
	InstanceState  instanceStateXML `xml:"instanceState"`
	PrivateDNSName string           `xml:"privateDnsName"`
	DNSName        string           `xml:"dnsName"`
	AmiLaunchIndex int              `xml:"amiLaunchIndex"`
	InstanceType   string           `xml:"instanceType"`
	LaunchTime     string           `xml:"launchTime"`
	Placement      struct {
		AvailabilityZone   string `xml:"availabilityZone"`
		AvailabilityZoneID string `xml:"availabilityZoneId"`
		Tenancy            string `xml:"tenancy"`
	} `xml:"placement"`
	SubnetID              string          `xml:"subnetId,omitempty"`
	VpcID                 string          `xml:"vpcId,omitempty"`
	PrivateIPAddress      string          `xml:"privateIpAddress,omitempty"`
	GroupSet              items[groupXML] `xml:"groupSet"`
	Architecture          string          `xml:"architecture"`
	RootDeviceType        string          `xml:"rootDeviceType"`
	RootDeviceName        string          `xml:"rootDeviceName"`
	VirtualizationType    string          `xml:"virtualizationType"`
	Hypervisor            string          `xml:"hypervisor"`
	InstanceLifecycle     string          `xml:"instanceLifecycle,omitempty"`
	SpotInstanceRequestID string          `xml:"spotInstanceRequestId,omitempty"`
	IamInstanceProfile    *struct {
		Arn string `xml:"arn"`
		ID  string `xml:"id"`
	} `xml:"iamInstanceProfile,omitempty"`
	StateReason *struct {
		Code    string `xml:"code"`
		Message string `xml:"message"`
	} `xml:"stateReason,omitempty"`
	TagSet *tagSet `xml:"tagSet,omitempty"`
}

func (s *Server) instanceXML(in *Instance) instanceXML {
	x := instanceXML{InstanceID: in.ID, ImageID: in.ImageID, InstanceState: stateXML(in.State), PrivateDNSName: in.PrivateDNS,
		InstanceType: in.Type, LaunchTime: ec2Time(in.LaunchTime), Architecture: in.Architecture,
		RootDeviceType: "ebs", RootDeviceName: "/dev/xvda", VirtualizationType: "hvm", Hypervisor: "xen", TagSet: tagsXML(in.Tags)}
	x.Placement.AvailabilityZone, x.Placement.AvailabilityZoneID, x.Placement.Tenancy = in.Zone, s.zoneIDOf(in.Zone), "default"
	if in.State != "terminated" {
		x.SubnetID, x.VpcID, x.PrivateIPAddress = in.SubnetID, s.ec2().VPCID, in.PrivateIP
		for _, g := range in.SecurityGroups {
			name := g
			if sg := s.groupByID(g); sg != nil {
				name = sg.Name
			}
			x.GroupSet.Item = append(x.GroupSet.Item, groupXML{g, name})
		}
	} else {
		x.PrivateDNSName = ""
		x.StateReason = &struct {
			Code    string `xml:"code"`
			Message string `xml:"message"`
		}{"Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"}
		if !in.InterruptAt.IsZero() {
			x.StateReason.Code, x.StateReason.Message = "Server.SpotInstanceTermination", "Server.SpotInstanceTermination: Spot instance termination"
		}
	}
	if in.CapacityType == "spot" {
		x.InstanceLifecycle = "spot"
		x.SpotInstanceRequestID = "sir-" + strings.TrimPrefix(in.ID, "i-")[:8]
	}
	if in.InstanceProfileARN != "" {
		x.IamInstanceProfile = &struct {
			Arn string `xml:"arn"`
			ID  string `xml:"id"`
		}{in.InstanceProfileARN, "AIPA" + strings.ToUpper(stableHex(in.InstanceProfileARN, 16))}
	}
	return x
}

type reservationXML struct {
	ReservationID string             `xml:"reservationId"`
	OwnerID       string             `xml:"ownerId"`
	GroupSet      items[groupXML]    `xml:"groupSet"`
	Instances     items[instanceXML] `xml:"instancesSet"`
}

func (s *Server) ec2RunInstances(c *Call) (any, error) {
	var in struct {
		DryRun                bool
		ImageID               string `query:"ImageId"`
		InstanceType          string
		MinCount              int
		MaxCount              int
		SubnetID              string   `query:"SubnetId"`
		SecurityGroupIDs      []string `query:"SecurityGroupId"`
		UserData              string
		IamInstanceProfile    ProfileSpec
		LaunchTemplate        fleetLTSpec
		Placement             struct{ AvailabilityZone string }
		TagSpecifications     []TagSpecification `query:"TagSpecification"`
		InstanceMarketOptions InstanceMarketOptions
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if in.MinCount == 0 {
		return nil, errMissingParameter("MinCount")
	}
	if in.MaxCount == 0 {
		return nil, errMissingParameter("MaxCount")
	}
	if in.MinCount < 1 || in.MaxCount < in.MinCount {
		return nil, errInvalidParameterValue("MinCount (%d) must be at least 1 and at most MaxCount (%d)", in.MinCount, in.MaxCount)
	}
	if in.MaxCount > 1000 {
		return nil, Errorf(400, "InstanceLimitExceeded", "You have requested more instances (%d) than your current instance limit allows.", in.MaxCount)
	}
	if err := validateTagSpecs(in.TagSpecifications, "instance", "volume", "network-interface", "spot-instances-request"); err != nil {
		return nil, err
	}
	sp := launchSpec{tags: map[string]string{}, volumeTags: map[string]string{}}
	market := in.InstanceMarketOptions.MarketType
	if in.LaunchTemplate.LaunchTemplateID != "" || in.LaunchTemplate.LaunchTemplateName != "" {
		lt, err := s.resolveLT(in.LaunchTemplate.LaunchTemplateID, in.LaunchTemplate.LaunchTemplateName)
		if err != nil {
			return nil, err
		}
		if err := checkLTVersion(lt, in.LaunchTemplate.Version); err != nil {
			return nil, err
		}
		sp = s.specFromLT(lt, in.LaunchTemplate.Version)
		in.InstanceType = firstNonEmpty(in.InstanceType, lt.Data.InstanceType)
		market = firstNonEmpty(market, lt.Data.InstanceMarket.MarketType)
	}
	sp.imageID = firstNonEmpty(in.ImageID, sp.imageID)
	sp.userData = firstNonEmpty(in.UserData, sp.userData)
	if len(in.SecurityGroupIDs) > 0 {
		sp.groups = in.SecurityGroupIDs
	}
	if arn := in.IamInstanceProfile.arn(); arn != "" {
		sp.profileARN = arn
	}
	for k, v := range tagsFromSpecs(in.TagSpecifications, "instance") {
		sp.tags[k] = v
	}
	for k, v := range tagsFromSpecs(in.TagSpecifications, "volume") {
		sp.volumeTags[k] = v
	}
	if in.InstanceType == "" {
		return nil, errMissingParameter("InstanceType")
	}
	sp.typ = s.catalog.ByName[in.InstanceType]
	if sp.typ == nil {
		return nil, errInvalidParameterValue("Invalid value '%s' for InstanceType.", in.InstanceType)
	}
	switch {
	case in.SubnetID != "":
		sp.subnet = s.subnetByID(in.SubnetID)
		if sp.subnet == nil {
			return nil, Errorf(400, "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", in.SubnetID)
		}
	case in.Placement.AvailabilityZone != "":
		sp.subnet = s.subnetInZone(in.Placement.AvailabilityZone)
		if sp.subnet == nil {
			return nil, errInvalidParameterValue("Invalid availability zone: [%s]", in.Placement.AvailabilityZone)
		}
	default:
		sp.subnet = s.ec2().Subnets[0]
	}
	sp.capacityType = "on-demand"
	if market == "spot" {
		sp.capacityType = "spot"
		sp.spotPrice, _ = s.spotPrice(sp.typ, sp.subnet.Zone, s.clock.Now())
	} else if market != "" {
		return nil, errInvalidParameterValue("Value (%s) for parameter InstanceMarketOptions.MarketType is invalid", market)
	}
	if err := s.checkSpec(&sp); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	now := s.clock.Now()
	sp.reservation = newID("r")
	out := reservationXML{ReservationID: sp.reservation, OwnerID: AccountID}
	for i := 0; i < in.MaxCount; i++ {
		out.Instances.Item = append(out.Instances.Item, s.instanceXML(s.launchLocked(sp, now)))
	}
	return out, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var instanceFields = filterFields[*Instance]{
	"instance-id":         func(in *Instance) []string { return []string{in.ID} },
	"instance-state-name": func(in *Instance) []string { return []string{in.State} },
	"availability-zone":   func(in *Instance) []string { return []string{in.Zone} },
	"instance-type":       func(in *Instance) []string { return []string{in.Type} },
	"subnet-id":           func(in *Instance) []string { return []string{in.SubnetID} },
	"image-id":            func(in *Instance) []string { return []string{in.ImageID} },
	"private-ip-address":  func(in *Instance) []string { return []string{in.PrivateIP} },
	"private-dns-name":    func(in *Instance) []string { return []string{in.PrivateDNS} },
	"architecture":        func(in *Instance) []string { return []string{in.Architecture} },
	"instance-lifecycle": func(in *Instance) []string {
		if in.CapacityType == "spot" {
			return []string{"spot"}
		}
		return nil
	},
	"instance.group-id": func(in *Instance) []string { return in.SecurityGroups },
}

// selectInstances resolves InstanceIds (all must exist) or lists every
// instance, in launch order, then applies filters.
func (s *Server) selectInstances(ids []string, filters []ec2Filter) ([]*Instance, error) {
	st := s.ec2()
	var list []*Instance
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			if in, ok := st.Instances[id]; ok {
				list = append(list, in)
			} else {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			if len(missing) == 1 {
				return nil, Errorf(400, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
			}
			return nil, Errorf(400, "InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
		}
	} else {
		list = make([]*Instance, 0, len(st.Instances))
		for _, in := range st.Instances {
			list = append(list, in)
		}
		sort.Slice(list, func(i, j int) bool {
			if !list[i].LaunchTime.Equal(list[j].LaunchTime) {
				return list[i].LaunchTime.Before(list[j].LaunchTime)
			}
			return list[i].ID < list[j].ID
		})
	}
	return applyFilters(list, filters, instanceFields, func(in *Instance) map[string]string { return in.Tags })
}

func (s *Server) ec2DescribeInstances(c *Call) (any, error) {
	var in struct {
		DryRun      bool
		InstanceIDs []string    `query:"InstanceId"`
		Filters     []ec2Filter `query:"Filter"`
		MaxResults  int
		NextToken   string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	if len(in.InstanceIDs) > 0 && in.MaxResults != 0 {
		return nil, Errorf(400, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	list, err := s.selectInstances(in.InstanceIDs, in.Filters)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(list, in.NextToken, in.MaxResults, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := struct {
		Reservations items[reservationXML] `xml:"reservationSet"`
		NextToken    string                `xml:"nextToken,omitempty"`
	}{NextToken: next}
	index := map[string]int{}
	for _, inst := range pg {
		rid := s.ec2().Reservations[inst.ID]
		if rid == "" {
			rid = "r-" + stableHex(inst.ID, 17)
		}
		i, ok := index[rid]
		if !ok {
			i = len(out.Reservations.Item)
			index[rid] = i
			out.Reservations.Item = append(out.Reservations.Item, reservationXML{ReservationID: rid, OwnerID: AccountID})
		}
		r := &out.Reservations.Item[i]
		r.Instances.Item = append(r.Instances.Item, s.instanceXML(inst))
	}
	return out, nil
}

type statusSummaryXML struct {
	Status  string `xml:"status"`
	Details items[struct {
		Name   string `xml:"name"`
		Status string `xml:"status"`
	}] `xml:"details"`
}

func statusSummary(state string) statusSummaryXML {
	st := statusSummaryXML{Status: "not-applicable"}
	status := ""
	switch state {
	case "running":
		st.Status, status = "ok", "passed"
	case "pending":
		st.Status, status = "initializing", "initializing"
	}
	if status != "" {
		st.Details.Item = append(st.Details.Item, struct {
			Name   string `xml:"name"`
			Status string `xml:"status"`
		}{"reachability", status})
	}
	return st
}

type instanceStatusXML struct {
	InstanceID         string           `xml:"instanceId"`
	AvailabilityZone   string           `xml:"availabilityZone"`
	AvailabilityZoneID string           `xml:"availabilityZoneId"`
	InstanceState      instanceStateXML `xml:"instanceState"`
	InstanceStatus     statusSummaryXML `xml:"instanceStatus"`
	SystemStatus       statusSummaryXML `xml:"systemStatus"`
}

func (s *Server) ec2DescribeInstanceStatus(c *Call) (any, error) {
	var in struct {
		DryRun              bool
		InstanceIDs         []string    `query:"InstanceId"`
		Filters             []ec2Filter `query:"Filter"`
		IncludeAllInstances bool
		MaxResults          int
		NextToken           string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	list, err := s.selectInstances(in.InstanceIDs, nil)
	if err != nil {
		return nil, err
	}
	var statuses []instanceStatusXML
	for _, inst := range list {
		if !in.IncludeAllInstances && inst.State != "running" {
			continue
		}
		statuses = append(statuses, instanceStatusXML{InstanceID: inst.ID, AvailabilityZone: inst.Zone, AvailabilityZoneID: s.zoneIDOf(inst.Zone),
			InstanceState: stateXML(inst.State), InstanceStatus: statusSummary(inst.State), SystemStatus: statusSummary(inst.State)})
	}
	statuses, err = applyFilters(statuses, in.Filters, filterFields[instanceStatusXML]{
		"availability-zone":      func(x instanceStatusXML) []string { return []string{x.AvailabilityZone} },
		"instance-state-name":    func(x instanceStatusXML) []string { return []string{x.InstanceState.Name} },
		"instance-status.status": func(x instanceStatusXML) []string { return []string{x.InstanceStatus.Status} },
		"system-status.status":   func(x instanceStatusXML) []string { return []string{x.SystemStatus.Status} },
	}, nil)
	if err != nil {
		return nil, err
	}
	pg, next, err := page(statuses, in.NextToken, in.MaxResults, 5, 1000)
	if err != nil {
		return nil, err
	}
	return struct {
		Statuses  items[instanceStatusXML] `xml:"instanceStatusSet"`
		NextToken string                   `xml:"nextToken,omitempty"`
	}{items[instanceStatusXML]{pg}, next}, nil
}

type stateChangeXML struct {
	InstanceID    string           `xml:"instanceId"`
	CurrentState  instanceStateXML `xml:"currentState"`
	PreviousState instanceStateXML `xml:"previousState"`
}

func (s *Server) ec2TerminateInstances(c *Call) (any, error) {
	var in struct {
		DryRun      bool
		InstanceIDs []string `query:"InstanceId"`
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if len(in.InstanceIDs) == 0 {
		return nil, errMissingParameter("InstanceId")
	}
	list, err := s.selectInstances(in.InstanceIDs, nil)
	if err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	now := s.clock.Now()
	out := struct {
		Changes items[stateChangeXML] `xml:"instancesSet"`
	}{}
	for _, inst := range list {
		prev := inst.State
		if prev == "pending" || prev == "running" {
			s.setStateLocked(inst, "shutting-down", now)
		}
		out.Changes.Item = append(out.Changes.Item, stateChangeXML{inst.ID, stateXML(inst.State), stateXML(prev)})
	}
	return out, nil
}
