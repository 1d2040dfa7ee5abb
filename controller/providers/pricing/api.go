package pricing

import (
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
)

// PricingAPI reads on-demand prices from the Price List.
type PricingAPI interface {
	awspricing.GetProductsAPIClient
}

// EC2API reads spot prices; *ec2.Client implements it.
type EC2API interface {
	ec2.DescribeSpotPriceHistoryAPIClient
}
