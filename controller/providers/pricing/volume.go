package pricing

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/providers/launchtemplate"
)

// ebsFallbackRegion prices regions the embedded EBS data lacks: it has
// us-east-1 only (catalog/data/README.md), and regional EBS prices differ
// by a few percent, far less than leaving volumes out would.
const ebsFallbackRegion = "us-east-1"

// Volumes are the EBS volumes every node of the class launches with, read
// from the block device mappings the launch template gets, so that what is
// priced is what is launched. A nil class is one with no mappings (the
// AL2023 default root volume). Where a mapping leaves size or type to EC2,
// EC2 uses the snapshot's size, unknown before launch, and gp2 (EC2 user
// guide, block-device-mapping-concepts: "The default value is gp2"); the
// size is taken as the family default, 20 GiB.
func Volumes(nc *v1.EC2NodeClass) []catalog.Volume {
	if nc == nil {
		nc = &v1.EC2NodeClass{}
	}
	var out []catalog.Volume
	for _, m := range launchtemplate.BlockDevices(nc) {
		e := m.Ebs
		if e == nil {
			continue // not an EBS volume: nothing billed per node
		}
		v := catalog.Volume{Type: string(e.VolumeType), SizeGiB: launchtemplate.DefaultDataVolumeGiB}
		if v.Type == "" {
			v.Type = string(ec2types.VolumeTypeGp2)
		}
		if e.VolumeSize != nil {
			v.SizeGiB = int64(aws.ToInt32(e.VolumeSize))
		}
		v.IOPS = int64(aws.ToInt32(e.Iops))
		v.ThroughputMiBps = int64(aws.ToInt32(e.Throughput))
		if v.Type == string(ec2types.VolumeTypeGp3) {
			// Unset gp3 performance is the included baseline, not zero.
			v.IOPS = max(v.IOPS, catalog.GP3FreeIOPS)
			v.ThroughputMiBps = max(v.ThroughputMiBps, catalog.GP3FreeThroughputMiBps)
		}
		out = append(out, v)
	}
	return out
}

// VolumeCost is the $/h of the EBS volumes each node of the class runs
// with, at region's prices (us-east-1's where the data has none). An error
// wrapping catalog.ErrUnpriced comes with the priced parts' sum, a lower
// bound the caller may still use.
func VolumeCost(nc *v1.EC2NodeClass, region string) (float64, error) {
	prices, ok := catalog.EBSPrices(region)
	if !ok {
		if prices, ok = catalog.EBSPrices(ebsFallbackRegion); !ok {
			return 0, fmt.Errorf("pricing EBS volumes: no %s prices: %w", ebsFallbackRegion, catalog.EBSPricesErr())
		}
	}
	var total float64
	var firstErr error
	for _, v := range Volumes(nc) {
		h, err := prices.Hourly(v)
		total += h
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("pricing %s volume of %d GiB: %w", v.Type, v.SizeGiB, err)
		}
	}
	return total, firstErr
}
