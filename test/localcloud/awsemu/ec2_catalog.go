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
	// MaximumEbsAttachments and AttachmentLimitType are the catalog's
	// attachment limit (data/ebs-attachments.csv).
	MaximumEbsAttachments int    `xml:"maximumEbsAttachments,omitempty"`
	AttachmentLimitType   string `xml:"attachmentLimitType,omitempty"`
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
	x.EbsInfo = ebsInfoXML{EbsOptimizedSupport: "default", EncryptionSupport: "supported", NvmeSupport: "unsupported",
		MaximumEbsAttachments: it.MaxEBSAttachments, AttachmentLimitType: "dedicated"}
	if it.EBSAttachmentsShared {
		x.EbsInfo.AttachmentLimitType = "shared"
	}
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

type ec2DescribeInstanceTypesInput struct {
	DryRun        bool
	InstanceTypes []string    `query:"InstanceType"`
	Filters       []ec2Filter `query:"Filter"`
	MaxResults    int
	NextToken     string
}

type ec2DescribeInstanceTypesOutput struct {
	Types     items[instanceTypeInfoXML] `xml:"instanceTypeSet"`
	NextToken string                     `xml:"nextToken,omitempty"`
}

func (s *Server) ec2DescribeInstanceTypes(c *Call, in *ec2DescribeInstanceTypesInput) (*ec2DescribeInstanceTypesOutput, error) {
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
	out := ec2DescribeInstanceTypesOutput{NextToken: next}
	out.Types.Item = make([]instanceTypeInfoXML, len(pg))
	for i, x := range pg {
		out.Types.Item[i] = *x
	}
	return &out, nil
}
