package awsemu

import "strconv"

// ---- DescribeInstanceTypes' filters ----

// typeFields read DescribeInstanceTypes' filters from the very answer the
// type gets, so a filter and the response never disagree.
var typeFields = filterFields[*instanceTypeInfoXML]{
	"auto-recovery-supported":         func(x *instanceTypeInfoXML) []string { return boolVal(x.AutoRecoverySupported) },
	"bare-metal":                      func(x *instanceTypeInfoXML) []string { return boolVal(x.BareMetal) },
	"burstable-performance-supported": func(x *instanceTypeInfoXML) []string { return boolVal(x.BurstablePerformanceSupported) },
	"current-generation":              func(x *instanceTypeInfoXML) []string { return boolVal(x.CurrentGeneration) },
	"dedicated-hosts-supported":       func(x *instanceTypeInfoXML) []string { return boolVal(x.DedicatedHostsSupported) },
	"ebs-info.ebs-optimized-info.baseline-bandwidth-in-mbps": ebsOptimized(func(e *ebsOptimizedInfoXML) string {
		return strconv.Itoa(e.BaselineBandwidthInMbps)
	}),
	"ebs-info.ebs-optimized-info.baseline-throughput-in-mbps": ebsOptimized(func(e *ebsOptimizedInfoXML) string {
		return strconv.FormatFloat(e.BaselineThroughputInMBps, 'f', -1, 64)
	}),
	"ebs-info.ebs-optimized-info.maximum-bandwidth-in-mbps": ebsOptimized(func(e *ebsOptimizedInfoXML) string {
		return strconv.Itoa(e.MaximumBandwidthInMbps)
	}),
	"ebs-info.ebs-optimized-info.maximum-throughput-in-mbps": ebsOptimized(func(e *ebsOptimizedInfoXML) string {
		return strconv.FormatFloat(e.MaximumThroughputInMBps, 'f', -1, 64)
	}),
	"ebs-info.ebs-optimized-support": func(x *instanceTypeInfoXML) []string { return set(x.EbsInfo.EbsOptimizedSupport) },
	"ebs-info.encryption-support":    func(x *instanceTypeInfoXML) []string { return set(x.EbsInfo.EncryptionSupport) },
	"ebs-info.nvme-support":          func(x *instanceTypeInfoXML) []string { return set(x.EbsInfo.NvmeSupport) },
	"free-tier-eligible":             func(x *instanceTypeInfoXML) []string { return boolVal(x.FreeTierEligible) },
	"hibernation-supported":          func(x *instanceTypeInfoXML) []string { return boolVal(x.HibernationSupported) },
	"hypervisor":                     func(x *instanceTypeInfoXML) []string { return set(x.Hypervisor) },
	"instance-storage-info.disk.count": storage(func(st *instanceStorageXML) []string {
		var out []string
		for _, d := range st.Disks.Item {
			out = append(out, strconv.Itoa(d.Count))
		}
		return out
	}),
	"instance-storage-info.disk.size-in-gb": storage(func(st *instanceStorageXML) []string {
		var out []string
		for _, d := range st.Disks.Item {
			out = append(out, strconv.Itoa(d.SizeInGB))
		}
		return out
	}),
	"instance-storage-info.disk.type": storage(func(st *instanceStorageXML) []string {
		var out []string
		for _, d := range st.Disks.Item {
			out = append(out, d.Type)
		}
		return out
	}),
	"instance-storage-info.encryption-support": storage(func(st *instanceStorageXML) []string { return set(st.EncryptionSupport) }),
	"instance-storage-info.nvme-support":       storage(func(st *instanceStorageXML) []string { return set(st.NvmeSupport) }),
	"instance-storage-info.total-size-in-gb":   storage(func(st *instanceStorageXML) []string { return intVal(st.TotalSizeInGB) }),
	"instance-storage-supported":               func(x *instanceTypeInfoXML) []string { return boolVal(x.InstanceStorageSupported) },
	"instance-type":                            func(x *instanceTypeInfoXML) []string { return one(x.InstanceType) },
	"memory-info.size-in-mib":                  func(x *instanceTypeInfoXML) []string { return one(strconv.FormatInt(x.MemoryInfo.SizeInMiB, 10)) },
	"network-info.efa-supported":               func(x *instanceTypeInfoXML) []string { return boolVal(x.NetworkInfo.EfaSupported) },
	"network-info.ena-support":                 func(x *instanceTypeInfoXML) []string { return set(x.NetworkInfo.EnaSupport) },
	"network-info.encryption-in-transit-supported": func(x *instanceTypeInfoXML) []string {
		return boolVal(x.NetworkInfo.EncryptionInTransit)
	},
	"network-info.ipv4-addresses-per-interface": func(x *instanceTypeInfoXML) []string {
		return intVal(x.NetworkInfo.Ipv4AddressesPerInterface)
	},
	"network-info.ipv6-addresses-per-interface": func(x *instanceTypeInfoXML) []string {
		return intVal(x.NetworkInfo.Ipv6AddressesPerInterface)
	},
	"network-info.ipv6-supported":        func(x *instanceTypeInfoXML) []string { return boolVal(x.NetworkInfo.Ipv6Supported) },
	"network-info.maximum-network-cards": func(x *instanceTypeInfoXML) []string { return intVal(x.NetworkInfo.MaximumNetworkCards) },
	"network-info.maximum-network-interfaces": func(x *instanceTypeInfoXML) []string {
		return intVal(x.NetworkInfo.MaximumNetworkInterfaces)
	},
	"network-info.network-performance": func(x *instanceTypeInfoXML) []string { return set(x.NetworkInfo.NetworkPerformance) },
	"processor-info.supported-architecture": func(x *instanceTypeInfoXML) []string {
		return x.ProcessorInfo.SupportedArchitectures.Item
	},
	"supported-boot-mode":                func(x *instanceTypeInfoXML) []string { return x.SupportedBootModes.Item },
	"supported-root-device-type":         func(x *instanceTypeInfoXML) []string { return x.SupportedRootDeviceTypes.Item },
	"supported-usage-class":              func(x *instanceTypeInfoXML) []string { return x.SupportedUsageClasses.Item },
	"supported-virtualization-type":      func(x *instanceTypeInfoXML) []string { return x.SupportedVirtualizationTypes.Item },
	"vcpu-info.default-cores":            func(x *instanceTypeInfoXML) []string { return intVal(x.VCpuInfo.DefaultCores) },
	"vcpu-info.default-threads-per-core": func(x *instanceTypeInfoXML) []string { return intVal(x.VCpuInfo.DefaultThreadsPerCore) },
	"vcpu-info.default-vcpus":            func(x *instanceTypeInfoXML) []string { return intVal(x.VCpuInfo.DefaultVCpus) },
}

// ebsOptimized reads a field of ebsInfo.ebsOptimizedInfo, none when the
// type has no EBS-optimized figures.
func ebsOptimized(f func(*ebsOptimizedInfoXML) string) func(*instanceTypeInfoXML) []string {
	return func(x *instanceTypeInfoXML) []string {
		if x.EbsInfo.EbsOptimizedInfo == nil {
			return nil
		}
		return one(f(x.EbsInfo.EbsOptimizedInfo))
	}
}

// storage reads instanceStorageInfo, none when the type has no instance store.
func storage(f func(*instanceStorageXML) []string) func(*instanceTypeInfoXML) []string {
	return func(x *instanceTypeInfoXML) []string {
		if x.InstanceStorageInfo == nil {
			return nil
		}
		return f(x.InstanceStorageInfo)
	}
}
