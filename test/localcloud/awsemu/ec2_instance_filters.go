package awsemu

// ---- DescribeInstances' filters ----

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
