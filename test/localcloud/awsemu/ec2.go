package awsemu

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"
)

// EC2State is the simulated EC2 service's state: the default VPC, launch
// templates, instances and the fleet client tokens already answered.
type EC2State struct {
	Instances map[string]*Instance `json:"instances"`
	Images    []*Image             `json:"images"`

	VPCID          string           `json:"vpcId"`
	Subnets        []*Subnet        `json:"subnets"`
	SecurityGroups []*SecurityGroup `json:"securityGroups"`
	// LaunchTemplates by id.
	LaunchTemplates map[string]*LaunchTemplate `json:"launchTemplates"`
	// Fleets maps a CreateFleet ClientToken to the answer it got, so a
	// retried request launches nothing new.
	Fleets map[string]*FleetRecord `json:"fleets"`
	// Reservations maps instance id to the reservation it was launched in.
	Reservations map[string]string `json:"reservations"`
	// VolumeTags are the tags requested for an instance's volumes.
	VolumeTags map[string]map[string]string `json:"volumeTags"`
	// Launches keeps, by instance id, what the launch fixed about an
	// instance that Instance does not hold; DescribeInstances reports it.
	// A world saved before it existed has none: see launchOf.
	Launches map[string]*LaunchDetails `json:"launches,omitempty"`
	// ScheduledEvents are the instances' scheduled events (reboots,
	// retirement, maintenance), by instance id, as DescribeInstanceStatus
	// lists them. Fault injection adds them.
	ScheduledEvents map[string][]*ScheduledEvent `json:"scheduledEvents,omitempty"`
	// CapacityReservations by id and PlacementGroups by name; the admin API
	// adds them, the Describe operations list them.
	CapacityReservations map[string]*CapacityReservation `json:"capacityReservations,omitempty"`
	PlacementGroups      map[string]*PlacementGroup      `json:"placementGroups,omitempty"`
}

// LaunchDetails are the parts of a launch request an instance keeps.
type LaunchDetails struct {
	// LaunchIndex is the instance's place among those one RunInstances
	// call launched (amiLaunchIndex); 0 for fleet launches.
	LaunchIndex int    `json:"launchIndex"`
	ClientToken string `json:"clientToken,omitempty"`
	KeyName     string `json:"keyName,omitempty"`
	// Devices are the EBS volumes attached at launch, root first.
	Devices  []LaunchDevice  `json:"devices"`
	Metadata MetadataOptions `json:"metadata"`
	// ENITags are the tags requested for the primary network interface.
	ENITags map[string]string `json:"eniTags,omitempty"`
}

// LaunchDevice is one EBS volume an instance was launched with.
type LaunchDevice struct {
	Name                string `json:"name"`
	DeleteOnTermination bool   `json:"deleteOnTermination"`
	// SizeGiB is the volume's size; 0 when the mapping left it to the
	// image's snapshot.
	SizeGiB int `json:"sizeGiB,omitempty"`
}

// ScheduledEvent is an EC2 scheduled event of an instance.
type ScheduledEvent struct {
	ID          string    `json:"id"`
	Code        string    `json:"code"`
	Description string    `json:"description"`
	NotBefore   time.Time `json:"notBefore"`
	NotAfter    time.Time `json:"notAfter"`
	// NotBeforeDeadline is the latest the event may be rescheduled to;
	// zero when it cannot be rescheduled.
	NotBeforeDeadline time.Time `json:"notBeforeDeadline"`
}

// Subnet is a private subnet of the default VPC.
type Subnet struct {
	ID     string            `json:"id"`
	Zone   string            `json:"zone"`
	ZoneID string            `json:"zoneId"`
	CIDR   string            `json:"cidr"`
	Tags   map[string]string `json:"tags"`
	// Third is the CIDR's third octet; hosts are numbered from it.
	Third int `json:"third"`
	// NextHost is the next host number to hand out (AWS reserves the first four).
	NextHost int `json:"nextHost"`
	// Used counts addresses held by live instances.
	Used int `json:"used"`
}

// subnetSize is the number of addresses in a /20.
const subnetSize = 4096

// SecurityGroup is a VPC security group.
type SecurityGroup struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Tags        map[string]string `json:"tags"`
}

// LaunchTemplate keeps one version: nodewright, like Karpenter, never
// creates a second one.
type LaunchTemplate struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	CreateTime time.Time          `json:"createTime"`
	Data       LaunchTemplateData `json:"data"`
	Tags       map[string]string  `json:"tags"`
}

// LaunchTemplateData is the stored part of RequestLaunchTemplateData; its
// query tags let CreateLaunchTemplate decode straight into it.
type LaunchTemplateData struct {
	ImageID             string                `json:"imageId" query:"ImageId"`
	InstanceType        string                `json:"instanceType"`
	KeyName             string                `json:"keyName,omitempty"`
	UserData            string                `json:"userData"`
	SecurityGroupIDs    []string              `json:"securityGroupIds" query:"SecurityGroupId"`
	SecurityGroupNames  []string              `json:"securityGroupNames" query:"SecurityGroup"`
	IamInstanceProfile  ProfileSpec           `json:"iamInstanceProfile"`
	MetadataOptions     MetadataOptions       `json:"metadataOptions"`
	BlockDeviceMappings []BlockDeviceMapping  `json:"blockDeviceMappings" query:"BlockDeviceMapping"`
	TagSpecifications   []TagSpecification    `json:"tagSpecifications" query:"TagSpecification"`
	InstanceMarket      InstanceMarketOptions `json:"instanceMarketOptions" query:"InstanceMarketOptions"`
}

// ProfileSpec names an instance profile by ARN or name.
type ProfileSpec struct {
	Arn  string `json:"arn"`
	Name string `json:"name"`
}

// arn resolves the profile to its ARN.
func (p ProfileSpec) arn() string {
	if p.Arn != "" {
		return p.Arn
	}
	if p.Name != "" {
		return "arn:aws:iam::" + AccountID + ":instance-profile/" + p.Name
	}
	return ""
}

// MetadataOptions are the IMDS settings of a launch template.
type MetadataOptions struct {
	HttpEndpoint            string `json:"httpEndpoint"`
	HttpTokens              string `json:"httpTokens"`
	HttpPutResponseHopLimit int    `json:"httpPutResponseHopLimit"`
	InstanceMetadataTags    string `json:"instanceMetadataTags"`
	HttpProtocolIpv6        string `json:"httpProtocolIpv6"`
}

// BlockDeviceMapping is a launch template's volume.
type BlockDeviceMapping struct {
	DeviceName string `json:"deviceName"`
	Ebs        struct {
		VolumeSize          int    `json:"volumeSize"`
		VolumeType          string `json:"volumeType"`
		Iops                int    `json:"iops"`
		Throughput          int    `json:"throughput"`
		Encrypted           string `json:"encrypted"`
		KmsKeyID            string `json:"kmsKeyId" query:"KmsKeyId"`
		DeleteOnTermination string `json:"deleteOnTermination"`
		SnapshotID          string `json:"snapshotId" query:"SnapshotId"`
	} `json:"ebs"`
}

// TagSpecification is TagSpecification.N in requests.
type TagSpecification struct {
	ResourceType string `json:"resourceType"`
	Tags         []Tag  `json:"tags" query:"Tag"`
}

// Tag is a key/value pair as requests carry it.
type Tag struct {
	Key   string `json:"key" xml:"key"`
	Value string `json:"value" xml:"value"`
}

// InstanceMarketOptions selects spot.
type InstanceMarketOptions struct {
	MarketType  string `json:"marketType"`
	SpotOptions struct {
		MaxPrice string `json:"maxPrice"`
	} `json:"spotOptions"`
}

// FleetRecord is a CreateFleet answer kept for ClientToken idempotency.
type FleetRecord struct {
	FleetID   string             `json:"fleetId"`
	Instances []createFleetInst  `json:"instances"`
	Errors    []createFleetError `json:"errors"`
	Tags      map[string]string  `json:"tags"`
	Created   time.Time          `json:"created"`
}

func newEC2State(w *World) *EC2State {
	st := &EC2State{
		Instances: map[string]*Instance{}, Images: defaultImages(),
		LaunchTemplates: map[string]*LaunchTemplate{}, Fleets: map[string]*FleetRecord{},
		Reservations: map[string]string{}, VolumeTags: map[string]map[string]string{},
		Launches: map[string]*LaunchDetails{}, ScheduledEvents: map[string][]*ScheduledEvent{},
		CapacityReservations: map[string]*CapacityReservation{}, PlacementGroups: map[string]*PlacementGroup{},
		VPCID: "vpc-0" + stableHex("vpc/"+w.Options.ClusterName, 16),
	}
	cluster := w.Options.ClusterName
	discovery := func(name string) map[string]string {
		tags := map[string]string{
			"nodewright.dev/discovery":         cluster,
			"kubernetes.io/cluster/" + cluster: "owned",
			"Name":                             name,
		}
		for k, v := range w.Options.DiscoveryTags {
			tags[k] = v
		}
		return tags
	}
	for i, zone := range w.Options.Zones {
		third := (i * 16) % 256
		st.Subnets = append(st.Subnets, &Subnet{
			ID: "subnet-0" + stableHex("subnet/"+cluster+"/"+zone, 16), Zone: zone,
			ZoneID: zoneID(w.Region, i), CIDR: fmt.Sprintf("10.0.%d.0/20", third), Third: third, NextHost: 4,
			Tags: discovery(cluster + "-private-" + zone),
		})
	}
	st.SecurityGroups = append(st.SecurityGroups, &SecurityGroup{
		ID: "sg-0" + stableHex("sg/"+cluster, 16), Name: "eks-cluster-sg-" + cluster,
		Description: "EKS created security group applied to the nodes of cluster " + cluster,
		Tags:        discovery("eks-cluster-sg-" + cluster),
	})
	return st
}

// stableHex derives n hex digits from s, so default resources keep their
// ids across restarts and between runs.
func stableHex(s string, n int) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	out := fmt.Sprintf("%016x", h.Sum64())
	for len(out) < n {
		out += out
	}
	return out[:n]
}

func hash64(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// zoneID mimics AWS zone ids: us-east-1 -> use1-az1.
func zoneID(region string, i int) string {
	short := ""
	for _, p := range strings.Split(region, "-") {
		if p == "" {
			continue
		}
		if p[0] >= '0' && p[0] <= '9' {
			short += p
		} else if short == "" {
			short += p
		} else {
			short += p[:1]
		}
	}
	return fmt.Sprintf("%s-az%d", short, i+1)
}

func (s *Server) ec2() *EC2State { return s.world.EC2 }

func (s *Server) subnetByID(id string) *Subnet {
	for _, sn := range s.ec2().Subnets {
		if sn.ID == id {
			return sn
		}
	}
	return nil
}

func (s *Server) subnetInZone(zone string) *Subnet {
	for _, sn := range s.ec2().Subnets {
		if sn.Zone == zone {
			return sn
		}
	}
	return nil
}

func (s *Server) zoneIDOf(zone string) string {
	for i, z := range s.world.Options.Zones {
		if z == zone {
			return zoneID(s.world.Region, i)
		}
	}
	return ""
}

func (s *Server) groupByID(id string) *SecurityGroup {
	for _, g := range s.ec2().SecurityGroups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (s *Server) instanceARN(id string) string {
	return "arn:aws:ec2:" + s.world.Region + ":" + AccountID + ":instance/" + id
}

// ec2EventObserver, when set (by tests), sees every event EC2 emits.
var ec2EventObserver func(Event)

func (s *Server) ec2EmitLocked(e Event) {
	if ec2EventObserver != nil {
		ec2EventObserver(e)
	}
	s.emitLocked(e)
}

// setStateLocked moves an instance to state and announces it.
func (s *Server) setStateLocked(in *Instance, state string, now time.Time) {
	if in.State == state {
		return
	}
	in.State = state
	switch state {
	case "shutting-down":
		in.StateChangeAt = now.Add(s.world.Options.Timing.ShuttingDownToTerminated)
	case "terminated":
		in.TerminatedAt = now
		in.StateChangeAt = time.Time{}
		if sn := s.subnetByID(in.SubnetID); sn != nil && sn.Used > 0 {
			sn.Used--
		}
	}
	s.log.Info("instance state change", "instance", in.ID, "state", state)
	s.ec2EmitLocked(Event{Source: "aws.ec2", DetailType: "EC2 Instance State-change Notification",
		Resources: []string{s.instanceARN(in.ID)},
		Detail:    map[string]string{"instance-id": in.ID, "state": state}, Time: now})
}

func (s *Server) ec2TickLocked(now time.Time) {
	st := s.ec2()
	for id, in := range st.Instances {
		switch in.State {
		case "pending", "running":
			if !in.InterruptAt.IsZero() && !now.Before(in.InterruptAt) {
				s.setStateLocked(in, "shutting-down", now)
			} else if in.State == "pending" && !now.Before(in.StateChangeAt) {
				s.setStateLocked(in, "running", now)
			}
		case "shutting-down":
			if !now.Before(in.StateChangeAt) {
				s.setStateLocked(in, "terminated", now)
			}
		case "terminated":
			if now.Sub(in.TerminatedAt) > s.world.Options.Timing.TerminatedRetention {
				delete(st.Instances, id)
				delete(st.Reservations, id)
				delete(st.VolumeTags, id)
				delete(st.Launches, id)
				delete(st.ScheduledEvents, id)
			}
		}
	}
}

func (s *Server) registerEC2() {
	s.register("ec2", "DescribeInstanceTypes", protoEC2Query, false, handle(s.ec2DescribeInstanceTypes))
	s.register("ec2", "DescribeInstanceTypeOfferings", protoEC2Query, false, handle(s.ec2DescribeInstanceTypeOfferings))
	s.register("ec2", "DescribeAvailabilityZones", protoEC2Query, false, handle(s.ec2DescribeAvailabilityZones))
	s.register("ec2", "DescribeSpotPriceHistory", protoEC2Query, false, handle(s.ec2DescribeSpotPriceHistory))
	s.register("ec2", "DescribeSubnets", protoEC2Query, false, handle(s.ec2DescribeSubnets))
	s.register("ec2", "DescribeSecurityGroups", protoEC2Query, false, handle(s.ec2DescribeSecurityGroups))
	s.register("ec2", "DescribeImages", protoEC2Query, false, handle(s.ec2DescribeImages))
	s.register("ec2", "CreateLaunchTemplate", protoEC2Query, true, handle(s.ec2CreateLaunchTemplate))
	s.register("ec2", "DescribeLaunchTemplates", protoEC2Query, false, handle(s.ec2DescribeLaunchTemplates))
	s.register("ec2", "DeleteLaunchTemplate", protoEC2Query, true, handle(s.ec2DeleteLaunchTemplate))
	s.register("ec2", "CreateFleet", protoEC2Query, true, handle(s.ec2CreateFleet))
	s.register("ec2", "RunInstances", protoEC2Query, true, handle(s.ec2RunInstances))
	s.register("ec2", "DescribeInstances", protoEC2Query, false, handle(s.ec2DescribeInstances))
	s.register("ec2", "DescribeInstanceStatus", protoEC2Query, false, handle(s.ec2DescribeInstanceStatus))
	s.register("ec2", "TerminateInstances", protoEC2Query, true, handle(s.ec2TerminateInstances))
	s.register("ec2", "CreateTags", protoEC2Query, true, handle(s.ec2CreateTags))
	s.register("ec2", "DeleteTags", protoEC2Query, true, handle(s.ec2DeleteTags))
	s.register("ec2", "RebootInstances", protoEC2Query, true, handle(s.ec2RebootInstances))
	s.register("ec2", "DescribeCapacityReservations", protoEC2Query, false, handle(s.ec2DescribeCapacityReservations))
	s.register("ec2", "DescribePlacementGroups", protoEC2Query, false, handle(s.ec2DescribePlacementGroups))
}

// ---- shared request/response plumbing ----

// items renders an EC2 list: <xxxSet><item>…</item></xxxSet>.
type items[T any] struct {
	Item []T `xml:"item"`
}

type tagSet = items[Tag]

func tagsXML(m map[string]string) *tagSet {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := &tagSet{}
	for _, k := range keys {
		out.Item = append(out.Item, Tag{Key: k, Value: m[k]})
	}
	return out
}

// ec2Time is EC2's XML timestamp format.
func ec2Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func errDryRun() *Error {
	return Errorf(412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
}

func tagsFromSpecs(specs []TagSpecification, resource string) map[string]string {
	out := map[string]string{}
	for _, sp := range specs {
		if sp.ResourceType != resource {
			continue
		}
		for _, t := range sp.Tags {
			out[t.Key] = t.Value
		}
	}
	return out
}

func validateTagSpecs(specs []TagSpecification, allowed ...string) error {
	for _, sp := range specs {
		ok := false
		for _, a := range allowed {
			ok = ok || sp.ResourceType == a
		}
		if !ok {
			return errInvalidParameterValue("'%s' is not a valid taggable resource type for this operation.", sp.ResourceType)
		}
		for _, t := range sp.Tags {
			if t.Key == "" {
				return errInvalidParameterValue("Tag keys must not be empty")
			}
			if strings.HasPrefix(t.Key, "aws:") {
				return errInvalidParameterValue("Tag keys starting with 'aws:' are reserved for internal use")
			}
		}
	}
	return nil
}
