package instancetype

import (
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// EC2API is the part of EC2 instance-type discovery calls; *ec2.Client
// implements it.
type EC2API interface {
	ec2.DescribeInstanceTypesAPIClient
	ec2.DescribeInstanceTypeOfferingsAPIClient
}
