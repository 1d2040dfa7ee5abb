package instancetype

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/nodewright/nodewright/controller/catalog"
)

// typeCatalog is what EC2 says about instance types in the region: their
// shapes and the zones each is offered in.
type typeCatalog struct {
	types []catalog.InstanceType
	// offered maps zone -> instance type -> true.
	offered map[string]map[string]bool
}

// catalogTypes returns the region's instance types, from cache when fresh.
func (p *DefaultProvider) catalogTypes(ctx context.Context) (*typeCatalog, error) {
	return p.types.Get(p.opts.Clock.Now(), p.opts.TTL, func() (*typeCatalog, error) {
		return p.fetchTypes(ctx)
	})
}

func (p *DefaultProvider) fetchTypes(ctx context.Context) (*typeCatalog, error) {
	embedded, err := catalog.InstanceTypes()
	if err != nil {
		return nil, fmt.Errorf("loading embedded catalog: %w", err)
	}
	byName := make(map[string]*catalog.InstanceType, len(embedded))
	for i := range embedded {
		byName[embedded[i].Name] = &embedded[i]
	}
	out := &typeCatalog{offered: map[string]map[string]bool{}}
	pages := ec2.NewDescribeInstanceTypesPaginator(p.ec2, &ec2.DescribeInstanceTypesInput{
		Filters: []ec2types.Filter{{Name: aws.String("supported-usage-class"), Values: []string{"on-demand", "spot"}}},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describing instance types: %w", err)
		}
		for _, info := range page.InstanceTypes {
			if it, ok := fromEC2(info, byName[string(info.InstanceType)]); ok {
				out.types = append(out.types, it)
			}
		}
	}
	sort.Slice(out.types, func(i, j int) bool { return out.types[i].Name < out.types[j].Name })
	offerings := ec2.NewDescribeInstanceTypeOfferingsPaginator(p.ec2, &ec2.DescribeInstanceTypeOfferingsInput{
		LocationType: ec2types.LocationTypeAvailabilityZone,
	})
	for offerings.HasMorePages() {
		page, err := offerings.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describing instance type offerings: %w", err)
		}
		for _, o := range page.InstanceTypeOfferings {
			zone := aws.ToString(o.Location)
			if out.offered[zone] == nil {
				out.offered[zone] = map[string]bool{}
			}
			out.offered[zone][string(o.InstanceType)] = true
		}
	}
	return out, nil
}

// fromEC2 turns DescribeInstanceTypes' answer into a catalog record. The
// embedded entry, when there is one, supplies what EC2 does not say (the
// EKS max-pods table value, the fallback on-demand price); EC2's answer wins
// for everything it does say.
func fromEC2(info ec2types.InstanceTypeInfo, embedded *catalog.InstanceType) (catalog.InstanceType, bool) {
	var it catalog.InstanceType
	if embedded != nil {
		it = *embedded
	}
	it.Name = string(info.InstanceType)
	family, size, _ := strings.Cut(it.Name, ".")
	it.Family, it.Size = family, size
	if it.Category == "" || it.Generation == 0 {
		it.Category, it.Generation = splitFamily(family)
	}
	if info.VCpuInfo != nil {
		it.VCPU = int(aws.ToInt32(info.VCpuInfo.DefaultVCpus))
	}
	if info.MemoryInfo != nil {
		it.MemoryMiB = aws.ToInt64(info.MemoryInfo.SizeInMiB)
	}
	it.Architecture = ""
	if info.ProcessorInfo != nil {
		for _, a := range info.ProcessorInfo.SupportedArchitectures {
			switch a {
			case ec2types.ArchitectureTypeX8664:
				it.Architecture = "amd64"
			case ec2types.ArchitectureTypeArm64:
				it.Architecture = "arm64"
			}
			if it.Architecture != "" {
				break
			}
		}
		if m := aws.ToString(info.ProcessorInfo.Manufacturer); m != "" {
			it.CPUManufacturer = strings.ToLower(strings.Fields(m)[0])
		}
	}
	if it.Architecture == "" || it.VCPU == 0 || it.MemoryMiB == 0 {
		// i386-only or malformed: nothing nodewright can run.
		return it, false
	}
	if info.Hypervisor != "" {
		it.Hypervisor = string(info.Hypervisor)
	}
	it.BareMetal = aws.ToBool(info.BareMetal)
	it.Burstable = aws.ToBool(info.BurstablePerformanceSupported)
	it.BaselineCPUPerVCPU, it.SurplusPerVCPUHour = 0, 0
	// A burstable type the credit table lacks keeps no baseline and is
	// scheduled as if it did not burst: better than a zero baseline that
	// would bill every millicore as surplus.
	_ = it.FillBurst()
	if info.NetworkInfo != nil {
		it.MaxENIs = int(aws.ToInt32(info.NetworkInfo.MaximumNetworkInterfaces))
		it.IPv4PerENI = int(aws.ToInt32(info.NetworkInfo.Ipv4AddressesPerInterface))
		if len(info.NetworkInfo.NetworkCards) > 0 {
			it.MaxENIsDefaultCard = int(aws.ToInt32(info.NetworkInfo.NetworkCards[0].MaximumNetworkInterfaces))
		}
	}
	if info.InstanceStorageInfo != nil {
		it.LocalNVMeGB = int(aws.ToInt64(info.InstanceStorageInfo.TotalSizeInGB))
	}
	if info.EbsInfo != nil {
		it.MaxEBSAttachments = int(aws.ToInt32(info.EbsInfo.MaximumEbsAttachments))
		it.EBSAttachmentsShared = info.EbsInfo.AttachmentLimitType == ec2types.AttachmentLimitTypeShared
	}
	// A region or SDK that gives no limit gets the table's.
	_ = it.FillEBSAttachments()
	if info.GpuInfo != nil && len(info.GpuInfo.Gpus) > 0 {
		g := info.GpuInfo.Gpus[0]
		it.GPUCount = int(aws.ToInt32(g.Count))
		it.GPUName = aws.ToString(g.Name)
		it.GPUManufacturer = aws.ToString(g.Manufacturer)
		if g.MemoryInfo != nil {
			it.GPUMemoryMiB = int64(aws.ToInt32(g.MemoryInfo.SizeInMiB))
		}
	}
	return it, true
}

// splitFamily reads "c7gn" as category "c", generation 7.
func splitFamily(family string) (string, int) {
	i := strings.IndexFunc(family, unicode.IsDigit)
	if i < 0 {
		return family, 0
	}
	j := i
	for j < len(family) && unicode.IsDigit(rune(family[j])) {
		j++
	}
	g, _ := strconv.Atoi(family[i:j])
	return family[:i], g
}
