package awsemu

import (
	"strings"
	"time"
)

// ---- the instance as DescribeInstances and RunInstances answer it ----

type instanceXML struct {
	InstanceID     string           `xml:"instanceId"`
	ImageID        string           `xml:"imageId"`
	InstanceState  instanceStateXML `xml:"instanceState"`
	PrivateDNSName string           `xml:"privateDnsName"`
	DNSName        string           `xml:"dnsName"`
	Reason         string           `xml:"reason"`
	KeyName        string           `xml:"keyName,omitempty"`
	AmiLaunchIndex int              `xml:"amiLaunchIndex"`
	InstanceType   string           `xml:"instanceType"`
	LaunchTime     string           `xml:"launchTime"`
	Placement      struct {
		AvailabilityZone   string `xml:"availabilityZone"`
		AvailabilityZoneID string `xml:"availabilityZoneId"`
		GroupName          string `xml:"groupName"`
		Tenancy            string `xml:"tenancy"`
	} `xml:"placement"`
	Monitoring struct {
		State string `xml:"state"`
	} `xml:"monitoring"`
	SubnetID            string                 `xml:"subnetId,omitempty"`
	VpcID               string                 `xml:"vpcId,omitempty"`
	PrivateIPAddress    string                 `xml:"privateIpAddress,omitempty"`
	SourceDestCheck     *bool                  `xml:"sourceDestCheck,omitempty"`
	GroupSet            items[groupXML]        `xml:"groupSet"`
	Architecture        string                 `xml:"architecture"`
	RootDeviceType      string                 `xml:"rootDeviceType"`
	RootDeviceName      string                 `xml:"rootDeviceName"`
	BlockDeviceMapping  items[instanceBDMXML]  `xml:"blockDeviceMapping"`
	VirtualizationType  string                 `xml:"virtualizationType"`
	ClientToken         string                 `xml:"clientToken,omitempty"`
	Hypervisor          string                 `xml:"hypervisor"`
	NetworkInterfaceSet items[instanceENIXML]  `xml:"networkInterfaceSet"`
	EbsOptimized        bool                   `xml:"ebsOptimized"`
	EnaSupport          bool                   `xml:"enaSupport"`
	InstanceLifecycle   string                 `xml:"instanceLifecycle,omitempty"`
	SpotInstanceRequest string                 `xml:"spotInstanceRequestId,omitempty"`
	IamInstanceProfile  *instanceProfileRefXML `xml:"iamInstanceProfile,omitempty"`
	StateReason         *stateReasonXML        `xml:"stateReason,omitempty"`
	TagSet              *tagSet                `xml:"tagSet,omitempty"`
	CapacityReservation struct {
		Preference string `xml:"capacityReservationPreference"`
	} `xml:"capacityReservationSpecification"`
	HibernationOptions struct {
		Configured bool `xml:"configured"`
	} `xml:"hibernationOptions"`
	MetadataOptions struct {
		State                   string `xml:"state"`
		HttpTokens              string `xml:"httpTokens"`
		HttpPutResponseHopLimit int    `xml:"httpPutResponseHopLimit"`
		HttpEndpoint            string `xml:"httpEndpoint"`
		HttpProtocolIpv4        string `xml:"httpProtocolIpv4"`
		HttpProtocolIpv6        string `xml:"httpProtocolIpv6"`
		InstanceMetadataTags    string `xml:"instanceMetadataTags"`
	} `xml:"metadataOptions"`
	EnclaveOptions struct {
		Enabled bool `xml:"enabled"`
	} `xml:"enclaveOptions"`
	BootMode                 string `xml:"bootMode"`
	CurrentInstanceBootMode  string `xml:"currentInstanceBootMode"`
	PlatformDetails          string `xml:"platformDetails"`
	UsageOperation           string `xml:"usageOperation"`
	UsageOperationUpdateTime string `xml:"usageOperationUpdateTime"`
	PrivateDNSNameOptions    struct {
		HostnameType     string `xml:"hostnameType"`
		EnableARecord    bool   `xml:"enableResourceNameDnsARecord"`
		EnableAAAARecord bool   `xml:"enableResourceNameDnsAAAARecord"`
	} `xml:"privateDnsNameOptions"`
	MaintenanceOptions struct {
		AutoRecovery string `xml:"autoRecovery"`
	} `xml:"maintenanceOptions"`
	NetworkPerformanceOptions struct {
		BandwidthWeighting string `xml:"bandwidthWeighting"`
	} `xml:"networkPerformanceOptions"`
	Operator operatorXML `xml:"operator"`
}

type instanceProfileRefXML struct {
	Arn string `xml:"arn"`
	ID  string `xml:"id"`
}

type stateReasonXML struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

// operatorXML says whether a service manages the resource; none here does.
type operatorXML struct {
	Managed bool `xml:"managed"`
}

type instanceBDMXML struct {
	DeviceName string `xml:"deviceName"`
	Ebs        struct {
		VolumeID            string `xml:"volumeId"`
		Status              string `xml:"status"`
		AttachTime          string `xml:"attachTime"`
		DeleteOnTermination bool   `xml:"deleteOnTermination"`
	} `xml:"ebs"`
}

// instanceENIXML is the instance's primary network interface: every
// instance here has exactly one, in its subnet, with one private IPv4
// address and no public address.
type instanceENIXML struct {
	NetworkInterfaceID string          `xml:"networkInterfaceId"`
	SubnetID           string          `xml:"subnetId"`
	VpcID              string          `xml:"vpcId"`
	Description        string          `xml:"description"`
	OwnerID            string          `xml:"ownerId"`
	Status             string          `xml:"status"`
	MacAddress         string          `xml:"macAddress"`
	PrivateIPAddress   string          `xml:"privateIpAddress"`
	PrivateDNSName     string          `xml:"privateDnsName"`
	SourceDestCheck    bool            `xml:"sourceDestCheck"`
	GroupSet           items[groupXML] `xml:"groupSet"`
	Attachment         struct {
		AttachmentID        string `xml:"attachmentId"`
		DeviceIndex         int    `xml:"deviceIndex"`
		Status              string `xml:"status"`
		AttachTime          string `xml:"attachTime"`
		DeleteOnTermination bool   `xml:"deleteOnTermination"`
		NetworkCardIndex    int    `xml:"networkCardIndex"`
	} `xml:"attachment"`
	PrivateIPAddresses items[struct {
		PrivateIPAddress string `xml:"privateIpAddress"`
		PrivateDNSName   string `xml:"privateDnsName"`
		Primary          bool   `xml:"primary"`
	}] `xml:"privateIpAddressesSet"`
	InterfaceType string      `xml:"interfaceType"`
	Operator      operatorXML `xml:"operator"`
}

// launchOf is what the instance's launch fixed, or what AWS defaults to
// for an instance launched before the emulator kept launches.
func (s *Server) launchOf(id string) *LaunchDetails {
	if d := s.ec2().Launches[id]; d != nil {
		return d
	}
	return &LaunchDetails{Devices: rootFirst(nil)}
}

// metadataDefaults fills what a launch left unset with AWS's defaults for an
// image that does not require IMDSv2 (none of ours declares ImdsSupport).
func metadataDefaults(m MetadataOptions) MetadataOptions {
	m.HttpEndpoint = firstNonEmpty(m.HttpEndpoint, "enabled")
	m.HttpTokens = firstNonEmpty(m.HttpTokens, "optional")
	if m.HttpPutResponseHopLimit == 0 {
		m.HttpPutResponseHopLimit = 1
	}
	m.InstanceMetadataTags = firstNonEmpty(m.InstanceMetadataTags, "disabled")
	m.HttpProtocolIpv6 = firstNonEmpty(m.HttpProtocolIpv6, "disabled")
	return m
}

// eniID and the other derived ids are stable per instance, so repeated
// describes agree.
func eniID(instanceID string) string { return "eni-0" + stableHex("eni/"+instanceID, 16) }

func macAddress(instanceID string) string {
	h := stableHex("mac/"+instanceID, 10)
	return "0e:" + h[0:2] + ":" + h[2:4] + ":" + h[4:6] + ":" + h[6:8] + ":" + h[8:10]
}

func volumeID(instanceID, device string) string {
	return "vol-0" + stableHex("vol/"+instanceID+"/"+device, 16)
}

func (s *Server) instanceXML(in *Instance) instanceXML {
	d := s.launchOf(in.ID)
	x := instanceXML{InstanceID: in.ID, ImageID: in.ImageID, InstanceState: stateXML(in.State), PrivateDNSName: in.PrivateDNS,
		KeyName: d.KeyName, AmiLaunchIndex: d.LaunchIndex, ClientToken: d.ClientToken,
		InstanceType: in.Type, LaunchTime: ec2Time(in.LaunchTime), Architecture: in.Architecture,
		RootDeviceType: "ebs", RootDeviceName: rootDevice, VirtualizationType: "hvm", Hypervisor: "xen", TagSet: tagsXML(in.Tags),
		EnaSupport: true, BootMode: "uefi-preferred", CurrentInstanceBootMode: "uefi",
		PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances", UsageOperationUpdateTime: ec2Time(in.LaunchTime)}
	x.Placement.AvailabilityZone, x.Placement.AvailabilityZoneID, x.Placement.Tenancy = in.Zone, s.zoneIDOf(in.Zone), "default"
	x.Monitoring.State = "disabled"
	x.CapacityReservation.Preference = "open"
	m := metadataDefaults(d.Metadata)
	x.MetadataOptions.State, x.MetadataOptions.HttpTokens, x.MetadataOptions.HttpPutResponseHopLimit = "applied", m.HttpTokens, m.HttpPutResponseHopLimit
	x.MetadataOptions.HttpEndpoint, x.MetadataOptions.HttpProtocolIpv4, x.MetadataOptions.HttpProtocolIpv6 = m.HttpEndpoint, "enabled", m.HttpProtocolIpv6
	x.MetadataOptions.InstanceMetadataTags = m.InstanceMetadataTags
	x.PrivateDNSNameOptions.HostnameType = "ip-name"
	x.MaintenanceOptions.AutoRecovery = "default"
	x.NetworkPerformanceOptions.BandwidthWeighting = "default"
	if in.State != "terminated" {
		yes := true
		x.SubnetID, x.VpcID, x.PrivateIPAddress, x.SourceDestCheck = in.SubnetID, s.ec2().VPCID, in.PrivateIP, &yes
		for _, g := range in.SecurityGroups {
			name := g
			if sg := s.groupByID(g); sg != nil {
				name = sg.Name
			}
			x.GroupSet.Item = append(x.GroupSet.Item, groupXML{g, name})
		}
		for _, dev := range d.Devices {
			b := instanceBDMXML{DeviceName: dev.Name}
			b.Ebs.VolumeID, b.Ebs.Status, b.Ebs.AttachTime, b.Ebs.DeleteOnTermination = volumeID(in.ID, dev.Name), "attached", ec2Time(in.LaunchTime), dev.DeleteOnTermination
			x.BlockDeviceMapping.Item = append(x.BlockDeviceMapping.Item, b)
		}
		x.NetworkInterfaceSet.Item = []instanceENIXML{s.primaryENI(in, x.GroupSet)}
	} else {
		// A terminated instance has left its subnet and released its
		// volumes and network interface.
		x.PrivateDNSName = ""
		x.StateReason = &stateReasonXML{"Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"}
		if !in.InterruptAt.IsZero() {
			x.StateReason.Code, x.StateReason.Message = "Server.SpotInstanceTermination", "Server.SpotInstanceTermination: Spot instance termination"
		}
	}
	if (in.State == "shutting-down" || in.State == "terminated") && in.InterruptAt.IsZero() {
		x.Reason = "User initiated (" + s.shutdownStart(in).UTC().Format("2006-01-02 15:04:05") + " GMT)"
	}
	if in.CapacityType == "spot" {
		x.InstanceLifecycle = "spot"
		x.SpotInstanceRequest = "sir-" + strings.TrimPrefix(in.ID, "i-")[:8]
	}
	if in.InstanceProfileARN != "" {
		x.IamInstanceProfile = &instanceProfileRefXML{in.InstanceProfileARN, "AIPA" + strings.ToUpper(stableHex(in.InstanceProfileARN, 16))}
	}
	return x
}

// shutdownStart is when the instance began shutting down.
func (s *Server) shutdownStart(in *Instance) time.Time {
	if in.State == "terminated" {
		return in.TerminatedAt.Add(-s.world.Options.Timing.ShuttingDownToTerminated)
	}
	return in.StateChangeAt.Add(-s.world.Options.Timing.ShuttingDownToTerminated)
}

func (s *Server) primaryENI(in *Instance, groups items[groupXML]) instanceENIXML {
	e := instanceENIXML{NetworkInterfaceID: eniID(in.ID), SubnetID: in.SubnetID, VpcID: s.ec2().VPCID, OwnerID: AccountID,
		Status: "in-use", MacAddress: macAddress(in.ID), PrivateIPAddress: in.PrivateIP, PrivateDNSName: in.PrivateDNS,
		SourceDestCheck: true, GroupSet: groups, InterfaceType: "interface"}
	e.Attachment.AttachmentID = "eni-attach-0" + stableHex("eni-attach/"+in.ID, 16)
	e.Attachment.Status, e.Attachment.AttachTime, e.Attachment.DeleteOnTermination = "attached", ec2Time(in.LaunchTime), true
	e.PrivateIPAddresses.Item = append(e.PrivateIPAddresses.Item, struct {
		PrivateIPAddress string `xml:"privateIpAddress"`
		PrivateDNSName   string `xml:"privateDnsName"`
		Primary          bool   `xml:"primary"`
	}{in.PrivateIP, in.PrivateDNS, true})
	return e
}
