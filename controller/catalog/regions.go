package catalog

import "slices"

// CommercialRegions are the regions of the aws partition, from
// aws-sdk-go-v2 v1.47.7 internal/endpoints/awsrulesfn/partitions.json
// (its "aws-global" pseudo-region left out). TestCommercialRegionsAreTheSDKs
// keeps the list equal to the SDK's in go.mod, so a new region shows up here
// as a failing test rather than as a region nobody decided how to price.
var CommercialRegions = []string{
	"af-south-1",
	"ap-east-1", "ap-east-2",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
	"ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// pricedRegions are the regions with an on-demand price column in the data
// (data/README.md, "Regions"). The notes accept no public source for the
// others: AWS prices each region on its own, so copying or scaling another
// region's column would be made up. Those regions are recorded as unpriced
// and use us-east-1's list prices, as Karpenter's embedded prices do.
var pricedRegions = map[string]bool{"us-east-1": true, "us-west-2": true}

// Priced says whether the embedded data has region's own on-demand prices.
func Priced(region string) bool { return pricedRegions[region] }

// UnpricedRegions are the commercial regions whose embedded prices are
// us-east-1's stand-ins.
func UnpricedRegions() []string {
	return slices.DeleteFunc(slices.Clone(CommercialRegions), Priced)
}

// PriceRegion is the region whose embedded list prices Price gives for
// region: its own, or us-east-1's for a region the data has no column for.
// Callers say so wherever such prices are shown or used in earnest.
func PriceRegion(region string) string {
	if Priced(region) {
		return region
	}
	return "us-east-1"
}
