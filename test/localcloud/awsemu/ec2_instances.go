package awsemu

import (
	"regexp"
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

type reservationXML struct {
	ReservationID string             `xml:"reservationId"`
	OwnerID       string             `xml:"ownerId"`
	GroupSet      items[groupXML]    `xml:"groupSet"`
	Instances     items[instanceXML] `xml:"instancesSet"`
}

type ec2RunInstancesInput struct {
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
	KeyName               string
	ClientToken           string
	MetadataOptions       *MetadataOptions
}

func (s *Server) ec2RunInstances(c *Call, in *ec2RunInstancesInput) (*reservationXML, error) {
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
	if sp.details.ENITags == nil {
		sp.details.ENITags = map[string]string{}
	}
	for k, v := range tagsFromSpecs(in.TagSpecifications, "network-interface") {
		sp.details.ENITags[k] = v
	}
	sp.details.KeyName = firstNonEmpty(in.KeyName, sp.details.KeyName)
	sp.details.ClientToken = in.ClientToken
	if in.MetadataOptions != nil {
		sp.details.Metadata = *in.MetadataOptions
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
		sp.details.LaunchIndex = i
		out.Instances.Item = append(out.Instances.Item, s.instanceXML(s.launchLocked(sp, now)))
	}
	return &out, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// instanceIDPattern is the form of an instance id: "i-" and 8 (older) or
// 17 hexadecimal digits.
var instanceIDPattern = regexp.MustCompile(`^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$`)

// checkInstanceID refuses an id that cannot name an instance, as AWS does
// wherever it takes one, before it looks the id up:
// InvalidInstanceID.Malformed, not InvalidInstanceID.NotFound.
func checkInstanceID(id string) *Error {
	if !instanceIDPattern.MatchString(id) {
		return Errorf(400, "InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
	}
	return nil
}

// selectInstances resolves InstanceIds (all well-formed, all existing) or
// lists every instance, in launch order.
func (s *Server) selectInstances(ids []string) ([]*Instance, error) {
	st := s.ec2()
	var list []*Instance
	for _, id := range ids {
		if err := checkInstanceID(id); err != nil {
			return nil, err
		}
	}
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
	return list, nil
}

// reservationOf is the reservation the instance was launched in.
func (s *Server) reservationOf(id string) string {
	if rid := s.ec2().Reservations[id]; rid != "" {
		return rid
	}
	return "r-" + stableHex(id, 17)
}

type ec2DescribeInstancesInput struct {
	DryRun      bool
	InstanceIDs []string    `query:"InstanceId"`
	Filters     []ec2Filter `query:"Filter"`
	MaxResults  int
	NextToken   string
}

type ec2DescribeInstancesOutput struct {
	Reservations items[reservationXML] `xml:"reservationSet"`
	NextToken    string                `xml:"nextToken,omitempty"`
}

func (s *Server) ec2DescribeInstances(c *Call, in *ec2DescribeInstancesInput) (*ec2DescribeInstancesOutput, error) {
	if in.DryRun {
		return nil, errDryRun()
	}
	if len(in.InstanceIDs) > 0 && in.MaxResults != 0 {
		return nil, Errorf(400, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	list, err := s.selectInstances(in.InstanceIDs)
	if err != nil {
		return nil, err
	}
	views := make([]instanceView, len(list))
	for i, inst := range list {
		views[i] = instanceView{in: inst, x: s.instanceXML(inst), eniTags: s.launchOf(inst.ID).ENITags, reservation: s.reservationOf(inst.ID)}
	}
	pg, next, err := filterPage("DescribeInstances", views, in.Filters, instanceFields, func(v instanceView) map[string]string { return v.in.Tags }, in.NextToken, in.MaxResults, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := ec2DescribeInstancesOutput{NextToken: next}
	index := map[string]int{}
	for _, v := range pg {
		i, ok := index[v.reservation]
		if !ok {
			i = len(out.Reservations.Item)
			index[v.reservation] = i
			out.Reservations.Item = append(out.Reservations.Item, reservationXML{ReservationID: v.reservation, OwnerID: AccountID})
		}
		r := &out.Reservations.Item[i]
		r.Instances.Item = append(r.Instances.Item, v.x)
	}
	return &out, nil
}

type stateChangeXML struct {
	InstanceID    string           `xml:"instanceId"`
	CurrentState  instanceStateXML `xml:"currentState"`
	PreviousState instanceStateXML `xml:"previousState"`
}

type ec2TerminateInstancesInput struct {
	DryRun      bool
	InstanceIDs []string `query:"InstanceId"`
}

type ec2TerminateInstancesOutput struct {
	Changes items[stateChangeXML] `xml:"instancesSet"`
}

func (s *Server) ec2TerminateInstances(c *Call, in *ec2TerminateInstancesInput) (*ec2TerminateInstancesOutput, error) {
	if len(in.InstanceIDs) == 0 {
		return nil, errMissingParameter("InstanceId")
	}
	list, err := s.selectInstances(in.InstanceIDs)
	if err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	now := s.clock.Now()
	out := ec2TerminateInstancesOutput{}
	for _, inst := range list {
		prev := inst.State
		if prev == "pending" || prev == "running" {
			s.setStateLocked(inst, "shutting-down", now)
		}
		out.Changes.Item = append(out.Changes.Item, stateChangeXML{inst.ID, stateXML(inst.State), stateXML(prev)})
	}
	return &out, nil
}

type ec2RebootInstancesInput struct {
	DryRun      bool
	InstanceIDs []string `query:"InstanceId"`
}

// ec2RebootInstances queues a reboot. Instances here have no guest to
// restart, so a reboot changes nothing visible; AWS ignores requests to
// reboot terminated instances, and so does this.
func (s *Server) ec2RebootInstances(c *Call, in *ec2RebootInstancesInput) (*returnXML, error) {
	if len(in.InstanceIDs) == 0 {
		return nil, errMissingParameter("InstanceId")
	}
	if _, err := s.selectInstances(in.InstanceIDs); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	return &returnXML{true}, nil
}
