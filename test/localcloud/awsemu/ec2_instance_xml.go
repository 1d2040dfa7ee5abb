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

// instanceView is an instance with its answer, which DescribeInstances'
// filters read so they never disagree with the response.
type instanceView struct {
	in *Instance
	x  instanceXML
	// eniTags are the primary network interface's tags, which the
	// instance's answer does not show.
	eniTags     map[string]string
	reservation string
}

// none is a filter reader for a field our instances never have: such a
// filter matches no instance, as it matches none without the field in AWS.
func none(instanceView) []string { return nil }

func eniField(f func(e *instanceENIXML) []string) func(instanceView) []string {
	return func(v instanceView) []string {
		var out []string
		for i := range v.x.NetworkInterfaceSet.Item {
			out = append(out, f(&v.x.NetworkInterfaceSet.Item[i])...)
		}
		return out
	}
}

func bdmField(f func(b *instanceBDMXML) string) func(instanceView) []string {
	return func(v instanceView) []string {
		var out []string
		for i := range v.x.BlockDeviceMapping.Item {
			out = append(out, f(&v.x.BlockDeviceMapping.Item[i]))
		}
		return out
	}
}

func groupIDs(g items[groupXML]) []string {
	var out []string
	for _, it := range g.Item {
		out = append(out, it.GroupID)
	}
	return out
}

func groupNames(g items[groupXML]) []string {
	var out []string
	for _, it := range g.Item {
		out = append(out, it.GroupName)
	}
	return out
}

// instanceFields are DescribeInstances' filters (ec2FilterTable lists them).
var instanceFields = filterFields[instanceView]{
	// Affinity, host ids and partitions belong to dedicated hosts and
	// placement groups, which no launch here uses.
	"affinity":                         none,
	"architecture":                     func(v instanceView) []string { return one(v.x.Architecture) },
	"availability-zone":                func(v instanceView) []string { return one(v.x.Placement.AvailabilityZone) },
	"availability-zone-id":             func(v instanceView) []string { return one(v.x.Placement.AvailabilityZoneID) },
	"block-device-mapping.attach-time": bdmField(func(b *instanceBDMXML) string { return b.Ebs.AttachTime }),
	"block-device-mapping.delete-on-termination": bdmField(func(b *instanceBDMXML) string {
		return boolVal(b.Ebs.DeleteOnTermination)[0]
	}),
	"block-device-mapping.device-name": bdmField(func(b *instanceBDMXML) string { return b.DeviceName }),
	"block-device-mapping.status":      bdmField(func(b *instanceBDMXML) string { return b.Ebs.Status }),
	"block-device-mapping.volume-id":   bdmField(func(b *instanceBDMXML) string { return b.Ebs.VolumeID }),
	"boot-mode":                        func(v instanceView) []string { return one(v.x.BootMode) },
	// No launch here targets a capacity reservation.
	"capacity-reservation-id": none,
	"capacity-reservation-specification.capacity-reservation-preference": func(v instanceView) []string {
		return one(v.x.CapacityReservation.Preference)
	},
	"client-token":                   func(v instanceView) []string { return set(v.x.ClientToken) },
	"current-instance-boot-mode":     func(v instanceView) []string { return one(v.x.CurrentInstanceBootMode) },
	"dns-name":                       func(v instanceView) []string { return set(v.x.DNSName) },
	"ebs-optimized":                  func(v instanceView) []string { return boolVal(v.x.EbsOptimized) },
	"ena-support":                    func(v instanceView) []string { return boolVal(v.x.EnaSupport) },
	"enclave-options.enabled":        func(v instanceView) []string { return boolVal(v.x.EnclaveOptions.Enabled) },
	"hibernation-options.configured": func(v instanceView) []string { return boolVal(v.x.HibernationOptions.Configured) },
	"host-id":                        none,
	"hypervisor":                     func(v instanceView) []string { return one(v.x.Hypervisor) },
	"iam-instance-profile.arn": func(v instanceView) []string {
		if v.x.IamInstanceProfile == nil {
			return nil
		}
		return one(v.x.IamInstanceProfile.Arn)
	},
	"iam-instance-profile.id": func(v instanceView) []string {
		if v.x.IamInstanceProfile == nil {
			return nil
		}
		return one(v.x.IamInstanceProfile.ID)
	},
	"image-id":            func(v instanceView) []string { return one(v.x.ImageID) },
	"instance-id":         func(v instanceView) []string { return one(v.x.InstanceID) },
	"instance-lifecycle":  func(v instanceView) []string { return set(v.x.InstanceLifecycle) },
	"instance-state-code": func(v instanceView) []string { return intVal(v.x.InstanceState.Code) },
	"instance-state-name": func(v instanceView) []string { return one(v.x.InstanceState.Name) },
	"instance-type":       func(v instanceView) []string { return one(v.x.InstanceType) },
	"instance.group-id":   func(v instanceView) []string { return groupIDs(v.x.GroupSet) },
	"instance.group-name": func(v instanceView) []string { return groupNames(v.x.GroupSet) },
	// Instances here live in private subnets: no public or IPv6 address.
	"ip-address":   none,
	"ipv6-address": none,
	// HVM instances on current images boot without a kernel or ramdisk image.
	"kernel-id":                         none,
	"key-name":                          func(v instanceView) []string { return set(v.x.KeyName) },
	"launch-index":                      func(v instanceView) []string { return intVal(v.x.AmiLaunchIndex) },
	"launch-time":                       func(v instanceView) []string { return one(v.x.LaunchTime) },
	"maintenance-options.auto-recovery": func(v instanceView) []string { return one(v.x.MaintenanceOptions.AutoRecovery) },
	"metadata-options.http-endpoint":    func(v instanceView) []string { return one(v.x.MetadataOptions.HttpEndpoint) },
	"metadata-options.http-protocol-ipv4": func(v instanceView) []string {
		return one(v.x.MetadataOptions.HttpProtocolIpv4)
	},
	"metadata-options.http-protocol-ipv6": func(v instanceView) []string {
		return one(v.x.MetadataOptions.HttpProtocolIpv6)
	},
	"metadata-options.http-put-response-hop-limit": func(v instanceView) []string {
		return intVal(v.x.MetadataOptions.HttpPutResponseHopLimit)
	},
	"metadata-options.http-tokens": func(v instanceView) []string { return one(v.x.MetadataOptions.HttpTokens) },
	"metadata-options.instance-metadata-tags": func(v instanceView) []string {
		return one(v.x.MetadataOptions.InstanceMetadataTags)
	},
	"metadata-options.state": func(v instanceView) []string { return one(v.x.MetadataOptions.State) },
	"monitoring-state":       func(v instanceView) []string { return one(v.x.Monitoring.State) },
	// The primary network interface has no public address, so no
	// association (Elastic IP, carrier or customer-owned IP) of any kind.
	"network-interface.addresses.association.allocation-id":     none,
	"network-interface.addresses.association.association-id":    none,
	"network-interface.addresses.association.carrier-ip":        none,
	"network-interface.addresses.association.customer-owned-ip": none,
	"network-interface.addresses.association.ip-owner-id":       none,
	"network-interface.addresses.association.public-dns-name":   none,
	"network-interface.addresses.association.public-ip":         none,
	"network-interface.addresses.primary": eniField(func(e *instanceENIXML) []string {
		var out []string
		for _, a := range e.PrivateIPAddresses.Item {
			out = append(out, boolVal(a.Primary)...)
		}
		return out
	}),
	"network-interface.addresses.private-dns-name": eniField(func(e *instanceENIXML) []string {
		var out []string
		for _, a := range e.PrivateIPAddresses.Item {
			out = append(out, a.PrivateDNSName)
		}
		return out
	}),
	"network-interface.addresses.private-ip-address": eniField(func(e *instanceENIXML) []string {
		var out []string
		for _, a := range e.PrivateIPAddresses.Item {
			out = append(out, a.PrivateIPAddress)
		}
		return out
	}),
	"network-interface.association.allocation-id":     none,
	"network-interface.association.association-id":    none,
	"network-interface.association.carrier-ip":        none,
	"network-interface.association.customer-owned-ip": none,
	"network-interface.association.ip-owner-id":       none,
	"network-interface.association.public-dns-name":   none,
	"network-interface.association.public-ip":         none,
	"network-interface.attachment.attach-time": eniField(func(e *instanceENIXML) []string {
		return one(e.Attachment.AttachTime)
	}),
	"network-interface.attachment.attachment-id": eniField(func(e *instanceENIXML) []string {
		return one(e.Attachment.AttachmentID)
	}),
	"network-interface.attachment.delete-on-termination": eniField(func(e *instanceENIXML) []string {
		return boolVal(e.Attachment.DeleteOnTermination)
	}),
	"network-interface.attachment.device-index": eniField(func(e *instanceENIXML) []string {
		return intVal(e.Attachment.DeviceIndex)
	}),
	"network-interface.attachment.instance-id": func(v instanceView) []string {
		return eniField(func(*instanceENIXML) []string { return one(v.x.InstanceID) })(v)
	},
	"network-interface.attachment.instance-owner-id": eniField(func(*instanceENIXML) []string { return one(AccountID) }),
	"network-interface.attachment.network-card-index": eniField(func(e *instanceENIXML) []string {
		return intVal(e.Attachment.NetworkCardIndex)
	}),
	"network-interface.attachment.status": eniField(func(e *instanceENIXML) []string { return one(e.Attachment.Status) }),
	"network-interface.availability-zone": func(v instanceView) []string {
		return eniField(func(*instanceENIXML) []string { return one(v.x.Placement.AvailabilityZone) })(v)
	},
	"network-interface.deny-all-igw-traffic":           none, // an IPv6 setting; no interface here has IPv6
	"network-interface.description":                    eniField(func(e *instanceENIXML) []string { return one(e.Description) }),
	"network-interface.group-id":                       eniField(func(e *instanceENIXML) []string { return groupIDs(e.GroupSet) }),
	"network-interface.group-name":                     eniField(func(e *instanceENIXML) []string { return groupNames(e.GroupSet) }),
	"network-interface.ipv4-prefixes.ipv4-prefix":      none, // no prefix delegation on primary interfaces
	"network-interface.ipv6-address":                   none,
	"network-interface.ipv6-addresses.ipv6-address":    none,
	"network-interface.ipv6-addresses.is-primary-ipv6": none,
	"network-interface.ipv6-native":                    eniField(func(*instanceENIXML) []string { return boolVal(false) }),
	"network-interface.ipv6-prefixes.ipv6-prefix":      none,
	"network-interface.mac-address":                    eniField(func(e *instanceENIXML) []string { return one(e.MacAddress) }),
	"network-interface.network-interface-id": eniField(func(e *instanceENIXML) []string {
		return one(e.NetworkInterfaceID)
	}),
	"network-interface.operator.managed": eniField(func(e *instanceENIXML) []string {
		return boolVal(e.Operator.Managed)
	}),
	"network-interface.operator.principal": none,
	"network-interface.outpost-arn":        none,
	"network-interface.owner-id":           eniField(func(e *instanceENIXML) []string { return one(e.OwnerID) }),
	"network-interface.private-dns-name":   eniField(func(e *instanceENIXML) []string { return one(e.PrivateDNSName) }),
	"network-interface.private-ip-address": eniField(func(e *instanceENIXML) []string { return one(e.PrivateIPAddress) }),
	"network-interface.public-dns-name":    none,
	// Requester fields are for interfaces a service creates for you.
	"network-interface.requester-id":      none,
	"network-interface.requester-managed": eniField(func(*instanceENIXML) []string { return boolVal(false) }),
	"network-interface.status":            eniField(func(e *instanceENIXML) []string { return one(e.Status) }),
	"network-interface.source-dest-check": eniField(func(e *instanceENIXML) []string { return boolVal(e.SourceDestCheck) }),
	"network-interface.subnet-id":         eniField(func(e *instanceENIXML) []string { return one(e.SubnetID) }),
	"network-interface.tag-key": func(v instanceView) []string {
		if len(v.x.NetworkInterfaceSet.Item) == 0 {
			return nil
		}
		return sortedKeys(v.eniTags)
	},
	"network-interface.tag-value": func(v instanceView) []string {
		if len(v.x.NetworkInterfaceSet.Item) == 0 {
			return nil
		}
		var out []string
		for _, k := range sortedKeys(v.eniTags) {
			out = append(out, v.eniTags[k])
		}
		return out
	},
	"network-interface.vpc-id": eniField(func(e *instanceENIXML) []string { return one(e.VpcID) }),
	"network-performance-options.bandwidth-weighting": func(v instanceView) []string {
		return one(v.x.NetworkPerformanceOptions.BandwidthWeighting)
	},
	"operator.managed":           func(v instanceView) []string { return boolVal(v.x.Operator.Managed) },
	"operator.principal":         none,
	"outpost-arn":                none,
	"owner-id":                   func(instanceView) []string { return one(AccountID) },
	"placement-group-name":       func(v instanceView) []string { return set(v.x.Placement.GroupName) },
	"placement-partition-number": none,
	// platform is set only for Windows instances.
	"platform":         none,
	"platform-details": func(v instanceView) []string { return one(v.x.PlatformDetails) },
	"private-dns-name": func(v instanceView) []string { return set(v.x.PrivateDNSName) },
	"private-dns-name-options.enable-resource-name-dns-a-record": func(v instanceView) []string {
		return boolVal(v.x.PrivateDNSNameOptions.EnableARecord)
	},
	"private-dns-name-options.enable-resource-name-dns-aaaa-record": func(v instanceView) []string {
		return boolVal(v.x.PrivateDNSNameOptions.EnableAAAARecord)
	},
	"private-dns-name-options.hostname-type": func(v instanceView) []string {
		return one(v.x.PrivateDNSNameOptions.HostnameType)
	},
	"private-ip-address": func(v instanceView) []string { return set(v.x.PrivateIPAddress) },
	// No image here carries a Marketplace product code.
	"product-code":      none,
	"product-code.type": none,
	"ramdisk-id":        none,
	"reason":            func(v instanceView) []string { return set(v.x.Reason) },
	// requester-id is set only for instances another service launched.
	"requester-id":     none,
	"reservation-id":   func(v instanceView) []string { return one(v.reservation) },
	"root-device-name": func(v instanceView) []string { return one(v.x.RootDeviceName) },
	"root-device-type": func(v instanceView) []string { return one(v.x.RootDeviceType) },
	"source-dest-check": func(v instanceView) []string {
		if v.x.SourceDestCheck == nil {
			return nil
		}
		return boolVal(*v.x.SourceDestCheck)
	},
	"spot-instance-request-id": func(v instanceView) []string { return set(v.x.SpotInstanceRequest) },
	"state-reason-code": func(v instanceView) []string {
		if v.x.StateReason == nil {
			return nil
		}
		return one(v.x.StateReason.Code)
	},
	"state-reason-message": func(v instanceView) []string {
		if v.x.StateReason == nil {
			return nil
		}
		return one(v.x.StateReason.Message)
	},
	"subnet-id": func(v instanceView) []string { return set(v.x.SubnetID) },
	"tenancy":   func(v instanceView) []string { return one(v.x.Placement.Tenancy) },
	// tpmSupport is set only when NitroTPM is enabled, which no image here does.
	"tpm-support":                 none,
	"usage-operation":             func(v instanceView) []string { return one(v.x.UsageOperation) },
	"usage-operation-update-time": func(v instanceView) []string { return one(v.x.UsageOperationUpdateTime) },
	"virtualization-type":         func(v instanceView) []string { return one(v.x.VirtualizationType) },
	"vpc-id":                      func(v instanceView) []string { return set(v.x.VpcID) },
}
