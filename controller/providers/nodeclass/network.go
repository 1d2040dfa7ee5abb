package nodeclass

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/providers/internal/awsapi"
)

func (p *DefaultProvider) resolveSubnets(ctx context.Context, terms []v1.SubnetSelectorTerm) ([]v1.Subnet, error) {
	seen := map[string]v1.Subnet{}
	for _, t := range terms {
		filters := awsapi.TagFilters(t.Tags)
		if t.ID != "" {
			filters = append(filters, awsapi.Filter("subnet-id", t.ID))
		}
		pages := ec2.NewDescribeSubnetsPaginator(p.ec2, &ec2.DescribeSubnetsInput{Filters: filters})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describing subnets: %w", err)
			}
			for _, s := range page.Subnets {
				id := aws.ToString(s.SubnetId)
				seen[id] = v1.Subnet{ID: id, Zone: aws.ToString(s.AvailabilityZone), ZoneID: aws.ToString(s.AvailabilityZoneId)}
			}
		}
	}
	out := make([]v1.Subnet, 0, len(seen))
	for _, id := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, seen[id])
	}
	return out, nil
}

func (p *DefaultProvider) resolveSecurityGroups(ctx context.Context, terms []v1.SecurityGroupSelectorTerm) ([]v1.SecurityGroup, error) {
	seen := map[string]v1.SecurityGroup{}
	for _, t := range terms {
		filters := awsapi.TagFilters(t.Tags)
		if t.ID != "" {
			filters = append(filters, awsapi.Filter("group-id", t.ID))
		}
		if t.Name != "" {
			filters = append(filters, awsapi.Filter("group-name", t.Name))
		}
		pages := ec2.NewDescribeSecurityGroupsPaginator(p.ec2, &ec2.DescribeSecurityGroupsInput{Filters: filters})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describing security groups: %w", err)
			}
			for _, g := range page.SecurityGroups {
				id := aws.ToString(g.GroupId)
				seen[id] = v1.SecurityGroup{ID: id, Name: aws.ToString(g.GroupName)}
			}
		}
	}
	out := make([]v1.SecurityGroup, 0, len(seen))
	for _, id := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, seen[id])
	}
	return out, nil
}
