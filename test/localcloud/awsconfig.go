package localcloud

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/nodewright/nodewright/controller/utils/awshttp"
)

// AWSConfig is an SDK config for the cloud's AWS endpoint, as a user gets
// from AWS_ENDPOINT_URL, AWS_REGION and static credentials.
func (c *Cloud) AWSConfig() aws.Config {
	return aws.Config{
		Region:       c.opts.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(c.AWSEndpoint()),
		HTTPClient:   awshttp.BufferResponses(&http.Client{}),
	}
}
