package awscloud

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

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/providers/cache"
	"github.com/nodewright/nodewright/controller/providers/nodeclass"
)

// typeCatalog is what EC2 says about instance types in the region: their
// shapes and the zones each is offered in.
type typeCatalog struct {
	types []catalog.InstanceType
	// offered maps zone -> instance type -> true.
	offered map[string]map[string]bool
}

type typeCache struct{ cache.Value[*typeCatalog] }

// catalogTypes returns the region's instance types, from cache when fresh.
func (p *CloudProvider) catalogTypes(ctx context.Context) (*typeCatalog, error) {
	return p.types.Get(p.clock.Now(), p.opts.InstanceTypesTTL, func() (*typeCatalog, error) {
		return p.fetchTypes(ctx)
	})
}

func (p *CloudProvider) fetchTypes(ctx context.Context) (*typeCatalog, error) {
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

// InstanceTypes implements cloudprovider.CloudProvider: the types the
// NodePool's EC2NodeClass can launch, offered only in zones where it has a
// subnet, only in architectures it has an image for, with prices and ICE
// state.
func (p *CloudProvider) InstanceTypes(ctx context.Context, np *v1.NodePool) ([]*scheduling.InstanceType, error) {
	ref := np.Spec.Template.Spec.NodeClassRef
	if ref == nil {
		return nil, fmt.Errorf("nodepool %s has no nodeClassRef", np.Name)
	}
	nc, err := p.nodeClass(ctx, ref.Name)
	if err != nil {
		return nil, err
	}
	return p.instanceTypesFor(ctx, nc)
}

func (p *CloudProvider) instanceTypesFor(ctx context.Context, nc *v1.EC2NodeClass) ([]*scheduling.InstanceType, error) {
	cat, err := p.catalogTypes(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := p.prices.Prices(ctx)
	if err != nil {
		return nil, err
	}
	zoneSet := map[string]bool{}
	for _, s := range nc.Status.Subnets {
		zoneSet[s.Zone] = true
	}
	var zones []Zone
	for _, z := range sortedKeys(zoneSet) {
		offered := cat.offered[z]
		zones = append(zones, Zone{Name: z, Offers: func(t string) bool { return offered[t] }})
	}
	maxPods := 0
	if k := nc.Spec.Kubelet; k != nil && k.MaxPods != nil {
		maxPods = int(*k.MaxPods)
	}
	var out []*scheduling.InstanceType
	for _, it := range cat.types {
		st := InstanceType(it, p.opts.Region, zones, pr, maxPods, p.ice.Unavailable)
		// A type no image of the class can run is not offered: a GPU type
		// needs an image with its driver.
		if len(nc.Status.AMIs) > 0 && !nodeclass.Launchable(nc.Status.AMIs, st.Labels) {
			continue
		}
		if len(st.Offerings) > 0 {
			out = append(out, st)
		}
	}
	return out, nil
}

// nodeClass reads an EC2NodeClass; a missing or unresolved one is a
// NodeClassNotReadyError, which callers retry.
func (p *CloudProvider) nodeClass(ctx context.Context, name string) (*v1.EC2NodeClass, error) {
	if p.kube == nil {
		return nil, fmt.Errorf("aws cloud provider has no Kubernetes client to read EC2NodeClass %s", name)
	}
	nc := &v1.EC2NodeClass{}
	if err := p.kube.Get(ctx, clientKey(name), nc); err != nil {
		return nil, &cloudprovider.NodeClassNotReadyError{Err: fmt.Errorf("getting EC2NodeClass %s: %w", name, err)}
	}
	if len(nc.Status.Subnets) == 0 || len(nc.Status.AMIs) == 0 {
		return nil, &cloudprovider.NodeClassNotReadyError{Err: fmt.Errorf("EC2NodeClass %s has no resolved subnets or AMIs yet", name)}
	}
	return nc, nil
}
