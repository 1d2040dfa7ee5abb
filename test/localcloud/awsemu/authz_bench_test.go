package awsemu

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/nodewright/nodewright/controller/iampolicy"
)

// BenchmarkEnforcement serves the controller's hottest read and its launch
// with IAM off (NoAuth) and on (a user holding the controller policy, so
// every call is signed, verified and evaluated). Compare the req/s.
func BenchmarkEnforcement(b *testing.B) {
	for _, mode := range []string{"off", "on"} {
		s := NewForTest(b, Options{NoAuth: mode == "off"})
		cfg := s.Config()
		cfg.RetryMaxAttempts = 1
		if mode == "on" {
			doc, err := iampolicy.Document(iampolicy.Options{Region: "us-east-1", AccountID: AccountID, ClusterName: "localcloud",
				NodeRoleARN: "arn:aws:iam::" + AccountID + ":role/nodes"})
			if err != nil {
				b.Fatal(err)
			}
			cfg = userConfig(b, s, "controller", doc)
			cfg.RetryMaxAttempts = 1
		}
		c := ec2.NewFromConfig(cfg)
		ctx := context.Background()
		owned := []types.Tag{{Key: aws.String("kubernetes.io/cluster/localcloud"), Value: aws.String("owned")}}
		pool := append([]types.Tag{{Key: aws.String("nodewright.dev/nodepool"), Value: aws.String("default")}}, owned...)
		lt, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("bench"),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeLaunchTemplate, Tags: owned}},
			LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(al2023x86),
				TagSpecifications: []types.LaunchTemplateTagSpecificationRequest{{ResourceType: types.ResourceTypeNetworkInterface, Tags: owned},
					{ResourceType: types.ResourceTypeSpotInstancesRequest, Tags: owned}}}})
		if err != nil {
			b.Fatal(err)
		}
		var cands [][2]string
		for _, typ := range []string{"m5.large", "c5.large", "m5a.large", "r5.large", "m6i.large"} {
			for _, sn := range s.subnetIDs() {
				cands = append(cands, [2]string{typ, sn})
			}
		}
		fleet := testFleetInput(aws.ToString(lt.LaunchTemplate.LaunchTemplateId), types.DefaultTargetCapacityTypeSpot, cands)
		fleet.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: pool},
			{ResourceType: types.ResourceTypeVolume, Tags: pool}, {ResourceType: types.ResourceTypeFleet, Tags: pool}}
		b.Run("DescribeInstances/iam="+mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
		b.Run("CreateFleet/iam="+mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := c.CreateFleet(ctx, fleet); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
