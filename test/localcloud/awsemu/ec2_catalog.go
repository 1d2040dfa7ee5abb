package awsemu

import (
	"strconv"
	"strings"

	"github.com/nodewright/nodewright/controller/catalog"
)

// ---- DescribeInstanceTypes ----

type instanceTypeInfoXML struct {
	InstanceType                  string              `xml:"instanceType"`
	CurrentGeneration             bool                `xml:"currentGeneration"`
	FreeTierEligible              bool                `xml:"freeTierEligible"`
	SupportedUsageClasses         items[string]       `xml:"supportedUsageClasses"`
	SupportedRootDeviceTypes      items[string]       `xml:"supportedRootDeviceTypes"`
	SupportedVirtualizationTypes  items[string]       `xml:"supportedVirtualizationTypes"`
	BareMetal                     bool                `xml:"bareMetal"`
	Hypervisor                    string              `xml:"hypervisor,omitempty"`
	ProcessorInfo                 processorInfoXML    `xml:"processorInfo"`
	VCpuInfo                      vcpuInfoXML         `xml:"vCpuInfo"`
	MemoryInfo                    memoryInfoXML       `xml:"memoryInfo"`
	InstanceStorageSupported      bool                `xml:"instanceStorageSupported"`
	InstanceStorageInfo           *instanceStorageXML `xml:"instanceStorageInfo,omitempty"`
	EbsInfo                       ebsInfoXML          `xml:"ebsInfo"`
	NetworkInfo                   networkInfoXML      `xml:"networkInfo"`
	GpuInfo                       *gpuInfoXML         `xml:"gpuInfo,omitempty"`
	NeuronInfo                    *neuronInfoXML      `xml:"neuronInfo,omitempty"`
	InferenceAcceleratorInfo      *inferenceInfoXML   `xml:"inferenceAcceleratorInfo,omitempty"`
	BurstablePerformanceSupported bool                `xml:"burstablePerformanceSupported"`
	HibernationSupported          bool                `xml:"hibernationSupported"`
	AutoRecoverySupported         bool                `xml:"autoRecoverySupported"`
	DedicatedHostsSupported       bool                `xml:"dedicatedHostsSupported"`
	SupportedBootModes            items[string]       `xml:"supportedBootModes"`
	NitroEnclavesSupport          string              `xml:"nitroEnclavesSupport,omitempty"`
	PlacementGroupInfo            *placementGroupXML  `xml:"placementGroupInfo,omitempty"`
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
	EbsOptimizedSupport string `xml:"ebsOptimizedSupport"`
	EncryptionSupport   string `xml:"encryptionSupport"`
	NvmeSupport         string `xml:"nvmeSupport"`
	EbsOptimizedInfo    *struct {
		BaselineBandwidthInMbps int `xml:"baselineBandwidthInMbps"`
		MaximumBandwidthInMbps  int `xml:"maximumBandwidthInMbps"`
	} `xml:"ebsOptimizedInfo,omitempty"`
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

type neuronInfoXML struct {
	NeuronDevices items[struct {
		Count int    `xml:"count"`
		Name  string `xml:"name"`
	}] `xml:"neuronDevices"`
}

type inferenceInfoXML struct {
	Accelerators items[struct {
		Count        int    `xml:"count"`
		Name         string `xml:"name"`
		Manufacturer string `xml:"manufacturer"`
	}] `xml:"accelerators"`
}

type placementGroupXML struct {
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
		x.EbsInfo.EbsOptimizedInfo = &struct {
			BaselineBandwidthInMbps int `xml:"baselineBandwidthInMbps"`
			MaximumBandwidthInMbps  int `xml:"maximumBandwidthInMbps"`
		}{it.EBSBandwidthMbps, it.EBSBandwidthMbps}
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
	if it.AcceleratorCount > 0 {
		switch {
		case it.AcceleratorName == "inferentia" && it.AcceleratorMfr == "aws":
			x.InferenceAcceleratorInfo = &inferenceInfoXML{}
			x.InferenceAcceleratorInfo.Accelerators.Item = append(x.InferenceAcceleratorInfo.Accelerators.Item, struct {
				Count        int    `xml:"count"`
				Name         string `xml:"name"`
				Manufacturer string `xml:"manufacturer"`
			}{it.AcceleratorCount, "Inferentia", "AWS"})
			fallthrough
		case it.AcceleratorMfr == "aws":
			x.NeuronInfo = &neuronInfoXML{}
			x.NeuronInfo.NeuronDevices.Item = append(x.NeuronInfo.NeuronDevices.Item, struct {
				Count int    `xml:"count"`
				Name  string `xml:"name"`
			}{it.AcceleratorCount, strings.ToTitle(it.AcceleratorName[:1]) + it.AcceleratorName[1:]})
		}
	}
	if !it.Burstable {
		x.PlacementGroupInfo = &placementGroupXML{SupportedStrategies: items[string]{Item: []string{"cluster", "partition", "spread"}}}
	}
	return x
}

var typeFields = filterFields[*catalog.InstanceType]{
	"instance-type": func(it *catalog.InstanceType) []string { return []string{it.Name} },
	"processor-info.supported-architecture": func(it *catalog.InstanceType) []string {
		return []string{ec2Arch(it.Architecture)}
	},
	"vcpu-info.default-vcpus": func(it *catalog.InstanceType) []string { return []string{strconv.Itoa(it.VCPU)} },
	"memory-info.size-in-mib": func(it *catalog.InstanceType) []string { return []string{strconv.FormatInt(it.MemoryMiB, 10)} },
	"bare-metal":              func(it *catalog.InstanceType) []string { return []string{strconv.FormatBool(it.BareMetal)} },
	"burstable-performance-supported": func(it *catalog.InstanceType) []string {
		return []string{strconv.FormatBool(it.Burstable)}
	},
	"hypervisor":                 func(it *catalog.InstanceType) []string { return []string{it.Hypervisor} },
	"instance-storage-supported": func(it *catalog.InstanceType) []string { return []string{strconv.FormatBool(it.LocalNVMeGB > 0)} },
	"current-generation": func(it *catalog.InstanceType) []string {
		return []string{strconv.FormatBool(it.Generation >= 5 || (it.Burstable && it.Generation >= 3))}
	},
	"supported-usage-class": func(it *catalog.InstanceType) []string { return []string{"on-demand", "spot"} },
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
	list, err := applyFilters(list, in.Filters, typeFields, nil)
	if err != nil {
		return nil, err
	}
	if in.MaxResults == 0 {
		in.MaxResults = 100
	}
	pg, next, err := page(list, in.NextToken, in.MaxResults, 5, 100)
	if err != nil {
		return nil, err
	}
	out := struct {
		Types     items[instanceTypeInfoXML] `xml:"instanceTypeSet"`
		NextToken string                     `xml:"nextToken,omitempty"`
	}{NextToken: next}
	out.Types.Item = make([]instanceTypeInfoXML, len(pg))
	for i, it := range pg {
		out.Types.Item[i] = typeInfo(it)
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
	list, err := applyFilters(list, in.Filters, filterFields[offeringXML]{
		"instance-type": func(o offeringXML) []string { return []string{o.InstanceType} },
		"location":      func(o offeringXML) []string { return []string{o.Location} },
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
	list, err := applyFilters(list, in.Filters, filterFields[zoneXML]{
		"zone-name":   func(z zoneXML) []string { return []string{z.ZoneName} },
		"zone-id":     func(z zoneXML) []string { return []string{z.ZoneID} },
		"state":       func(z zoneXML) []string { return []string{z.ZoneState} },
		"region-name": func(z zoneXML) []string { return []string{z.RegionName} },
		"zone-type":   func(z zoneXML) []string { return []string{z.ZoneType} },
	}, nil)
	if err != nil {
		return nil, err
	}
	return struct {
		Zones items[zoneXML] `xml:"availabilityZoneInfo"`
	}{items[zoneXML]{list}}, nil
}
