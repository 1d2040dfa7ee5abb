package awsemu

import (
	"strconv"
	"sync"

	"github.com/nodewright/nodewright/controller/catalog"
)

// ---- DescribeInstanceTypes ----

type instanceTypeInfoXML struct {
	InstanceType                  string                 `xml:"instanceType"`
	CurrentGeneration             bool                   `xml:"currentGeneration"`
	FreeTierEligible              bool                   `xml:"freeTierEligible"`
	SupportedUsageClasses         items[string]          `xml:"supportedUsageClasses"`
	SupportedRootDeviceTypes      items[string]          `xml:"supportedRootDeviceTypes"`
	SupportedVirtualizationTypes  items[string]          `xml:"supportedVirtualizationTypes"`
	BareMetal                     bool                   `xml:"bareMetal"`
	Hypervisor                    string                 `xml:"hypervisor,omitempty"`
	ProcessorInfo                 processorInfoXML       `xml:"processorInfo"`
	VCpuInfo                      vcpuInfoXML            `xml:"vCpuInfo"`
	MemoryInfo                    memoryInfoXML          `xml:"memoryInfo"`
	InstanceStorageSupported      bool                   `xml:"instanceStorageSupported"`
	InstanceStorageInfo           *instanceStorageXML    `xml:"instanceStorageInfo,omitempty"`
	EbsInfo                       ebsInfoXML             `xml:"ebsInfo"`
	NetworkInfo                   networkInfoXML         `xml:"networkInfo"`
	GpuInfo                       *gpuInfoXML            `xml:"gpuInfo,omitempty"`
	NeuronInfo                    *neuronInfoXML         `xml:"neuronInfo,omitempty"`
	InferenceAcceleratorInfo      *inferenceInfoXML      `xml:"inferenceAcceleratorInfo,omitempty"`
	BurstablePerformanceSupported bool                   `xml:"burstablePerformanceSupported"`
	HibernationSupported          bool                   `xml:"hibernationSupported"`
	AutoRecoverySupported         bool                   `xml:"autoRecoverySupported"`
	DedicatedHostsSupported       bool                   `xml:"dedicatedHostsSupported"`
	SupportedBootModes            items[string]          `xml:"supportedBootModes"`
	NitroEnclavesSupport          string                 `xml:"nitroEnclavesSupport,omitempty"`
	PlacementGroupInfo            *placementGroupInfoXML `xml:"placementGroupInfo,omitempty"`
}

type processorInfoXML struct {
	SupportedArchitectures items[string] `xml:"supportedArchitectures"`
	Manufacturer           string        `xml:"manufacturer,omitempty"`
}

type vcpuInfoXML struct {
	DefaultVCpus          int `xml:"defaultVCpus"`
	DefaultCores          int `xml:"defaultCores"`
	DefaultThreadsPerCore int `xml:"defaultThreadsPerCore"`
}

type memoryInfoXML struct {
	SizeInMiB int64 `xml:"sizeInMiB"`
}

type instanceStorageXML struct {
	TotalSizeInGB int `xml:"totalSizeInGB"`
	Disks         items[struct {
		SizeInGB int    `xml:"sizeInGB"`
		Count    int    `xml:"count"`
		Type     string `xml:"type"`
	}] `xml:"disks"`
	NvmeSupport       string `xml:"nvmeSupport"`
	EncryptionSupport string `xml:"encryptionSupport"`
}

type ebsInfoXML struct {
	EbsOptimizedSupport string               `xml:"ebsOptimizedSupport"`
	EncryptionSupport   string               `xml:"encryptionSupport"`
	NvmeSupport         string               `xml:"nvmeSupport"`
	EbsOptimizedInfo    *ebsOptimizedInfoXML `xml:"ebsOptimizedInfo,omitempty"`
}

// ebsOptimizedInfoXML has no IOPS: the catalog does not give them.
type ebsOptimizedInfoXML struct {
	BaselineBandwidthInMbps  int     `xml:"baselineBandwidthInMbps"`
	BaselineThroughputInMBps float64 `xml:"baselineThroughputInMBps"`
	MaximumBandwidthInMbps   int     `xml:"maximumBandwidthInMbps"`
	MaximumThroughputInMBps  float64 `xml:"maximumThroughputInMBps"`
}

type networkCardXML struct {
	NetworkCardIndex         int     `xml:"networkCardIndex"`
	NetworkPerformance       string  `xml:"networkPerformance"`
	MaximumNetworkInterfaces int     `xml:"maximumNetworkInterfaces"`
	BaselineBandwidthInGbps  float64 `xml:"baselineBandwidthInGbps"`
	PeakBandwidthInGbps      float64 `xml:"peakBandwidthInGbps"`
}

type networkInfoXML struct {
	NetworkPerformance        string                `xml:"networkPerformance"`
	MaximumNetworkInterfaces  int                   `xml:"maximumNetworkInterfaces"`
	MaximumNetworkCards       int                   `xml:"maximumNetworkCards"`
	DefaultNetworkCardIndex   int                   `xml:"defaultNetworkCardIndex"`
	NetworkCards              items[networkCardXML] `xml:"networkCards"`
	Ipv4AddressesPerInterface int                   `xml:"ipv4AddressesPerInterface"`
	Ipv6AddressesPerInterface int                   `xml:"ipv6AddressesPerInterface"`
	Ipv6Supported             bool                  `xml:"ipv6Supported"`
	EnaSupport                string                `xml:"enaSupport"`
	EfaSupported              bool                  `xml:"efaSupported"`
	EncryptionInTransit       bool                  `xml:"encryptionInTransitSupported"`
	EnaSrdSupported           bool                  `xml:"enaSrdSupported"`
}

type gpuDeviceXML struct {
	Name         string        `xml:"name"`
	Manufacturer string        `xml:"manufacturer"`
	Count        int           `xml:"count"`
	MemoryInfo   memoryInfoXML `xml:"memoryInfo"`
}

type gpuInfoXML struct {
	Gpus                items[gpuDeviceXML] `xml:"gpus"`
	TotalGpuMemoryInMiB int64               `xml:"totalGpuMemoryInMiB"`
}

type neuronDeviceXML struct {
	Count    int    `xml:"count"`
	Name     string `xml:"name"`
	CoreInfo struct {
		Count   int `xml:"count"`
		Version int `xml:"version"`
	} `xml:"coreInfo"`
	MemoryInfo memoryInfoXML `xml:"memoryInfo"`
}

type neuronInfoXML struct {
	NeuronDevices                items[neuronDeviceXML] `xml:"neuronDevices"`
	TotalNeuronDeviceMemoryInMiB int64                  `xml:"totalNeuronDeviceMemoryInMiB"`
}

type inferenceDeviceXML struct {
	Count        int           `xml:"count"`
	Name         string        `xml:"name"`
	Manufacturer string        `xml:"manufacturer"`
	MemoryInfo   memoryInfoXML `xml:"memoryInfo"`
}

type inferenceInfoXML struct {
	Accelerators              items[inferenceDeviceXML] `xml:"accelerators"`
	TotalInferenceMemoryInMiB int64                     `xml:"totalInferenceMemoryInMiB"`
}

// neuronDevice is what DescribeInstanceTypes says about one AWS neuron
// accelerator chip.
type neuronDevice struct {
	name        string
	cores       int // NeuronCores per chip
	coreVersion int // NeuronCore-v1, -v2, -v3
	memoryMiB   int64
}

// neuronDevices by the catalog's accelerator name. Cores and memory per chip
// are from the AWS Neuron architecture docs (Inferentia: 4 NeuronCore-v1 and
// 8 GiB; Inferentia2 and Trainium: 2 NeuronCore-v2 and 32 GiB; Trainium2: 8
// NeuronCore-v3 and 96 GiB). The inf2 and trn1 entries match the real
// DescribeInstanceTypes output Karpenter v1.15.0 records in
// pkg/fake/zz_generated.describe_instance_types.go.
var neuronDevices = map[string]neuronDevice{
	"inferentia":  {name: "Inferentia", cores: 4, coreVersion: 1, memoryMiB: 8 * 1024},
	"inferentia2": {name: "Inferentia2", cores: 2, coreVersion: 2, memoryMiB: 32 * 1024},
	"trainium":    {name: "Trainium", cores: 2, coreVersion: 2, memoryMiB: 32 * 1024},
	"trainium2":   {name: "Trainium2", cores: 8, coreVersion: 3, memoryMiB: 96 * 1024},
}

type placementGroupInfoXML struct {
	SupportedStrategies items[string] `xml:"supportedStrategies"`
}

// ec2Arch maps the catalog's Go-style architectures to EC2's names.
func ec2Arch(a string) string {
	if a == "amd64" {
		return "x86_64"
	}
	return a
}

var manufacturerNames = map[string]string{"intel": "Intel", "amd": "AMD", "aws": "AWS", "nvidia": "NVIDIA", "habana": "Habana", "qualcomm": "Qualcomm"}

func titleMfr(m string) string {
	if n, ok := manufacturerNames[m]; ok {
		return n
	}
	return m
}

// networkPerformance renders bandwidth the way EC2 labels it.
func networkPerformance(mbps int, burstable bool) string {
	if mbps == 0 {
		return "Moderate"
	}
	g := float64(mbps) / 1000
	label := strconv.FormatFloat(g, 'f', -1, 64) + " Gigabit"
	if burstable || mbps < 10000 && mbps%1000 != 0 {
		return "Up to " + label
	}
	return label
}

// typeInfos caches each catalog type's answer, which never changes: a
// filtered DescribeInstanceTypes reads every type's. Callers must not
// modify what cachedTypeInfo returns.
var typeInfos sync.Map // *catalog.InstanceType -> *instanceTypeInfoXML

func cachedTypeInfo(it *catalog.InstanceType) *instanceTypeInfoXML {
	if x, ok := typeInfos.Load(it); ok {
		return x.(*instanceTypeInfoXML)
	}
	x := typeInfo(it)
	typeInfos.Store(it, &x)
	return &x
}

func typeInfo(it *catalog.InstanceType) instanceTypeInfoXML {
	x := instanceTypeInfoXML{
		InstanceType:                 it.Name,
		CurrentGeneration:            it.Generation >= 5 || (it.Burstable && it.Generation >= 3),
		FreeTierEligible:             it.Name == "t2.micro" || it.Name == "t3.micro",
		SupportedRootDeviceTypes:     items[string]{Item: []string{"ebs"}},
		SupportedVirtualizationTypes: items[string]{Item: []string{"hvm"}},
		BareMetal:                    it.BareMetal,
		Hypervisor:                   it.Hypervisor,
		ProcessorInfo: processorInfoXML{SupportedArchitectures: items[string]{Item: []string{ec2Arch(it.Architecture)}},
			Manufacturer: titleMfr(it.CPUManufacturer)},
		MemoryInfo:                    memoryInfoXML{SizeInMiB: it.MemoryMiB},
		BurstablePerformanceSupported: it.Burstable,
		AutoRecoverySupported:         !it.BareMetal && it.LocalNVMeGB == 0,
		DedicatedHostsSupported:       it.Generation >= 5 && !it.Burstable,
		SupportedBootModes:            items[string]{Item: []string{"uefi"}},
	}
	if it.Architecture == "amd64" {
		x.SupportedBootModes.Item = []string{"legacy-bios", "uefi"}
	}
	x.SupportedUsageClasses.Item = []string{"on-demand"}
	if _, ok := it.Price("us-east-1"); ok {
		x.SupportedUsageClasses.Item = append(x.SupportedUsageClasses.Item, "spot")
	}
	threads := 2
	if it.Architecture == "arm64" || it.VCPU == 1 {
		threads = 1
	}
	x.VCpuInfo = vcpuInfoXML{DefaultVCpus: it.VCPU, DefaultCores: max(it.VCPU/threads, 1), DefaultThreadsPerCore: threads}
	nitro := it.Hypervisor == "nitro" || it.BareMetal
	if it.LocalNVMeGB > 0 {
		x.InstanceStorageSupported = true
		st := &instanceStorageXML{TotalSizeInGB: it.LocalNVMeGB, NvmeSupport: "required", EncryptionSupport: "required"}
		st.Disks.Item = append(st.Disks.Item, struct {
			SizeInGB int    `xml:"sizeInGB"`
			Count    int    `xml:"count"`
			Type     string `xml:"type"`
		}{SizeInGB: it.LocalNVMeGB, Count: 1, Type: "ssd"})
		x.InstanceStorageInfo = st
	}
	x.EbsInfo = ebsInfoXML{EbsOptimizedSupport: "default", EncryptionSupport: "supported", NvmeSupport: "unsupported"}
	if nitro {
		x.EbsInfo.NvmeSupport = "required"
	}
	if it.EBSBandwidthMbps > 0 {
		// Throughput in MB/s is bandwidth in Mbps over 8, as AWS reports it
		// (4750 Mbps, 593.75 MB/s).
		mbps := it.EBSBandwidthMbps
		x.EbsInfo.EbsOptimizedInfo = &ebsOptimizedInfoXML{BaselineBandwidthInMbps: mbps, BaselineThroughputInMBps: float64(mbps) / 8,
			MaximumBandwidthInMbps: mbps, MaximumThroughputInMBps: float64(mbps) / 8}
	}
	perf := networkPerformance(it.NetworkBandwidthMbps, it.Burstable)
	cardENIs := it.MaxENIsDefaultCard
	if cardENIs == 0 {
		cardENIs = it.MaxENIs
	}
	gbps := float64(it.NetworkBandwidthMbps) / 1000
	x.NetworkInfo = networkInfoXML{
		NetworkPerformance: perf, MaximumNetworkInterfaces: it.MaxENIs, MaximumNetworkCards: 1,
		NetworkCards: items[networkCardXML]{Item: []networkCardXML{{NetworkPerformance: perf,
			MaximumNetworkInterfaces: cardENIs, BaselineBandwidthInGbps: gbps, PeakBandwidthInGbps: gbps}}},
		Ipv4AddressesPerInterface: it.IPv4PerENI, Ipv6AddressesPerInterface: it.IPv4PerENI, Ipv6Supported: nitro,
		EnaSupport: "required", EncryptionInTransit: nitro && it.Generation >= 5,
	}
	if !nitro {
		x.NetworkInfo.EnaSupport = "supported"
	}
	if it.GPUCount > 0 {
		x.GpuInfo = &gpuInfoXML{TotalGpuMemoryInMiB: it.GPUMemoryMiB * int64(it.GPUCount)}
		x.GpuInfo.Gpus.Item = []gpuDeviceXML{{Name: it.GPUName, Manufacturer: titleMfr(it.GPUManufacturer), Count: it.GPUCount,
			MemoryInfo: memoryInfoXML{SizeInMiB: it.GPUMemoryMiB}}}
	}
	if dev, ok := neuronDevices[it.AcceleratorName]; ok && it.AcceleratorMfr == "aws" && it.AcceleratorCount > 0 {
		x.NeuronInfo = &neuronInfoXML{TotalNeuronDeviceMemoryInMiB: dev.memoryMiB * int64(it.AcceleratorCount)}
		d := neuronDeviceXML{Count: it.AcceleratorCount, Name: dev.name, MemoryInfo: memoryInfoXML{SizeInMiB: dev.memoryMiB}}
		d.CoreInfo.Count, d.CoreInfo.Version = dev.cores, dev.coreVersion
		x.NeuronInfo.NeuronDevices.Item = []neuronDeviceXML{d}
		// AWS describes the first Inferentia (inf1) as an inference
		// accelerator too, as it did before neuronInfo existed.
		if it.AcceleratorName == "inferentia" {
			x.InferenceAcceleratorInfo = &inferenceInfoXML{TotalInferenceMemoryInMiB: x.NeuronInfo.TotalNeuronDeviceMemoryInMiB}
			x.InferenceAcceleratorInfo.Accelerators.Item = []inferenceDeviceXML{{Count: it.AcceleratorCount, Name: dev.name,
				Manufacturer: "AWS", MemoryInfo: memoryInfoXML{SizeInMiB: dev.memoryMiB}}}
		}
	}
	if !it.Burstable {
		x.PlacementGroupInfo = &placementGroupInfoXML{SupportedStrategies: items[string]{Item: []string{"cluster", "partition", "spread"}}}
	}
	return x
}

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

func (s *Server) ec2DescribeInstanceTypes(c *Call) (any, error) {
	var in struct {
		DryRun        bool
		InstanceTypes []string    `query:"InstanceType"`
		Filters       []ec2Filter `query:"Filter"`
		MaxResults    int
		NextToken     string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	var list []*catalog.InstanceType
	if len(in.InstanceTypes) > 0 {
		if in.MaxResults != 0 {
			return nil, Errorf(400, "InvalidParameterCombination", "The parameter InstanceTypes cannot be used with MaxResults")
		}
		for _, name := range in.InstanceTypes {
			it, ok := s.catalog.ByName[name]
			if !ok {
				return nil, errInvalidParameterValue("The following supplied instance types do not exist: [%s]", name)
			}
			list = append(list, it)
		}
	} else {
		list = make([]*catalog.InstanceType, len(s.catalog.Types))
		for i := range s.catalog.Types {
			list[i] = &s.catalog.Types[i]
		}
	}
	// Render only the page when nothing filters: a full listing pages 14 times.
	var infos []*instanceTypeInfoXML
	render := func(list []*catalog.InstanceType) []*instanceTypeInfoXML {
		out := make([]*instanceTypeInfoXML, len(list))
		for i, it := range list {
			out[i] = cachedTypeInfo(it)
		}
		return out
	}
	if len(in.Filters) > 0 {
		var err error
		if infos, err = applyFilters("DescribeInstanceTypes", render(list), in.Filters, typeFields, nil); err != nil {
			return nil, err
		}
	}
	if in.MaxResults == 0 {
		in.MaxResults = 100
	}
	var pg []*instanceTypeInfoXML
	var next string
	var err error
	if len(in.Filters) > 0 {
		pg, next, err = page(infos, in.NextToken, in.MaxResults, 5, 100)
	} else {
		var types []*catalog.InstanceType
		types, next, err = page(list, in.NextToken, in.MaxResults, 5, 100)
		pg = render(types)
	}
	if err != nil {
		return nil, err
	}
	out := struct {
		Types     items[instanceTypeInfoXML] `xml:"instanceTypeSet"`
		NextToken string                     `xml:"nextToken,omitempty"`
	}{NextToken: next}
	out.Types.Item = make([]instanceTypeInfoXML, len(pg))
	for i, x := range pg {
		out.Types.Item[i] = *x
	}
	return out, nil
}

// ---- offerings and zones ----

// offered reports whether zone offers the instance type.
func (s *Server) offered(instanceType, zone string) bool {
	if s.world.Options.Offerings == nil {
		return true
	}
	for _, t := range s.world.Options.Offerings[zone] {
		if wildcard(t, instanceType) {
			return true
		}
	}
	return false
}

type offeringXML struct {
	InstanceType string `xml:"instanceType"`
	LocationType string `xml:"locationType"`
	Location     string `xml:"location"`
}

func (s *Server) ec2DescribeInstanceTypeOfferings(c *Call) (any, error) {
	var in struct {
		DryRun       bool
		LocationType string
		Filters      []ec2Filter `query:"Filter"`
		MaxResults   int
		NextToken    string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	var list []offeringXML
	switch in.LocationType {
	case "", "region":
		for _, it := range s.catalog.Types {
			for _, z := range s.world.Options.Zones {
				if s.offered(it.Name, z) {
					list = append(list, offeringXML{it.Name, "region", s.world.Region})
					break
				}
			}
		}
	case "availability-zone", "availability-zone-id":
		for i, z := range s.world.Options.Zones {
			loc := z
			if in.LocationType == "availability-zone-id" {
				loc = zoneID(s.world.Region, i)
			}
			for _, it := range s.catalog.Types {
				if s.offered(it.Name, z) {
					list = append(list, offeringXML{it.Name, in.LocationType, loc})
				}
			}
		}
	default:
		return nil, errInvalidParameterValue("Value (%s) for parameter locationType is invalid. Valid values: region, availability-zone, availability-zone-id", in.LocationType)
	}
	list, err := applyFilters("DescribeInstanceTypeOfferings", list, in.Filters, filterFields[offeringXML]{
		"instance-type": func(o offeringXML) []string { return one(o.InstanceType) },
		"location":      func(o offeringXML) []string { return one(o.Location) },
	}, nil)
	if err != nil {
		return nil, err
	}
	if in.MaxResults == 0 {
		in.MaxResults = 1000
	}
	pg, next, err := page(list, in.NextToken, in.MaxResults, 5, 1000)
	if err != nil {
		return nil, err
	}
	return struct {
		Offerings items[offeringXML] `xml:"instanceTypeOfferingSet"`
		NextToken string             `xml:"nextToken,omitempty"`
	}{items[offeringXML]{pg}, next}, nil
}

type zoneXML struct {
	ZoneName           string `xml:"zoneName"`
	ZoneID             string `xml:"zoneId"`
	ZoneState          string `xml:"zoneState"`
	RegionName         string `xml:"regionName"`
	ZoneType           string `xml:"zoneType"`
	OptInStatus        string `xml:"optInStatus"`
	GroupName          string `xml:"groupName"`
	NetworkBorderGroup string `xml:"networkBorderGroup"`
}

func (s *Server) ec2DescribeAvailabilityZones(c *Call) (any, error) {
	var in struct {
		DryRun    bool
		ZoneNames []string    `query:"ZoneName"`
		ZoneIDs   []string    `query:"ZoneId"`
		Filters   []ec2Filter `query:"Filter"`
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	var list []zoneXML
	for i, z := range s.world.Options.Zones {
		list = append(list, zoneXML{ZoneName: z, ZoneID: zoneID(s.world.Region, i), ZoneState: "available",
			RegionName: s.world.Region, ZoneType: "availability-zone", OptInStatus: "opt-in-not-required",
			GroupName: s.world.Region, NetworkBorderGroup: s.world.Region})
	}
	if len(in.ZoneNames) > 0 || len(in.ZoneIDs) > 0 {
		var keep []zoneXML
		for _, name := range append(append([]string{}, in.ZoneNames...), in.ZoneIDs...) {
			found := false
			for _, z := range list {
				if z.ZoneName == name || z.ZoneID == name {
					keep, found = append(keep, z), true
				}
			}
			if !found {
				return nil, errInvalidParameterValue("The zone '%s' does not exist.", name)
			}
		}
		list = keep
	}
	list, err := applyFilters("DescribeAvailabilityZones", list, in.Filters, filterFields[zoneXML]{
		"zone-name":     func(z zoneXML) []string { return one(z.ZoneName) },
		"zone-id":       func(z zoneXML) []string { return one(z.ZoneID) },
		"state":         func(z zoneXML) []string { return one(z.ZoneState) },
		"region-name":   func(z zoneXML) []string { return one(z.RegionName) },
		"zone-type":     func(z zoneXML) []string { return one(z.ZoneType) },
		"group-name":    func(z zoneXML) []string { return one(z.GroupName) },
		"opt-in-status": func(z zoneXML) []string { return one(z.OptInStatus) },
		// Availability zones have no messages and no parent zone (only
		// Local and Wavelength Zones do).
		"message":          func(zoneXML) []string { return nil },
		"parent-zone-id":   func(zoneXML) []string { return nil },
		"parent-zone-name": func(zoneXML) []string { return nil },
	}, nil)
	if err != nil {
		return nil, err
	}
	return struct {
		Zones items[zoneXML] `xml:"availabilityZoneInfo"`
	}{items[zoneXML]{list}}, nil
}
