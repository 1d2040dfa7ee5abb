package awscloud

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

func clientKey(name string) client.ObjectKey { return client.ObjectKey{Name: name} }

// ResolveNodeClass resolves the EC2NodeClass's selectors against AWS and
// writes the result into nc.Status: subnets, security groups, AMIs and the
// instance profile (created for spec.role), with one condition per part and
// Ready when all are. A selector that matches nothing is not an error: its
// condition is False with a message saying which terms matched nothing.
// The error is for AWS failures, and the status is left partly updated.
func (p *CloudProvider) ResolveNodeClass(ctx context.Context, nc *v1.EC2NodeClass) error {
	var errs []error
	set := func(typ string, ok bool, reason, msg string) {
		status := metav1.ConditionTrue
		if !ok {
			status = metav1.ConditionFalse
		} else {
			reason, msg = "Resolved", ""
		}
		meta.SetStatusCondition(&nc.Status.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason,
			Message: msg, ObservedGeneration: nc.Generation})
	}

	subnets, err := p.resolveSubnets(ctx, nc.Spec.SubnetSelectorTerms)
	if err != nil {
		errs = append(errs, err)
		set(v1.ConditionTypeSubnetsReady, false, "ResolutionFailed", err.Error())
	} else {
		nc.Status.Subnets = subnets
		set(v1.ConditionTypeSubnetsReady, len(subnets) > 0, "NotFound",
			"no subnet matches subnetSelectorTerms "+describeSubnetTerms(nc.Spec.SubnetSelectorTerms))
	}

	groups, err := p.resolveSecurityGroups(ctx, nc.Spec.SecurityGroupSelectorTerms)
	if err != nil {
		errs = append(errs, err)
		set(v1.ConditionTypeSecurityGroupsReady, false, "ResolutionFailed", err.Error())
	} else {
		nc.Status.SecurityGroups = groups
		set(v1.ConditionTypeSecurityGroupsReady, len(groups) > 0, "NotFound",
			"no security group matches securityGroupSelectorTerms "+describeSGTerms(nc.Spec.SecurityGroupSelectorTerms))
	}

	amis, err := p.resolveAMIs(ctx, nc.Spec.AMISelectorTerms)
	if err != nil {
		errs = append(errs, err)
		set(v1.ConditionTypeAMIsReady, false, "ResolutionFailed", err.Error())
	} else {
		nc.Status.AMIs = amis
		set(v1.ConditionTypeAMIsReady, len(amis) > 0, "NotFound",
			"no image matches amiSelectorTerms "+describeAMITerms(nc.Spec.AMISelectorTerms, p.opts.KubernetesVersion))
	}

	profile, err := p.resolveInstanceProfile(ctx, nc)
	if err != nil {
		var nf *notFoundError
		if !errors.As(err, &nf) {
			errs = append(errs, err)
		}
		set(v1.ConditionTypeInstanceProfileReady, false, "NotFound", err.Error())
	} else {
		nc.Status.InstanceProfile = profile
		set(v1.ConditionTypeInstanceProfileReady, true, "", "")
	}

	var notReady []string
	for _, t := range []string{v1.ConditionTypeSubnetsReady, v1.ConditionTypeSecurityGroupsReady, v1.ConditionTypeAMIsReady, v1.ConditionTypeInstanceProfileReady} {
		if !meta.IsStatusConditionTrue(nc.Status.Conditions, t) {
			notReady = append(notReady, t)
		}
	}
	if len(notReady) == 0 {
		set(v1.ConditionTypeReady, true, "", "")
	} else {
		set(v1.ConditionTypeReady, false, "NotReady", strings.Join(notReady, ", ")+" not ready")
	}
	return errors.Join(errs...)
}

// notFoundError is a user mistake (a role or profile that doesn't exist),
// reported in a condition rather than retried as a failure.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

func tagFilters(tags map[string]string) []ec2types.Filter {
	var out []ec2types.Filter
	for _, k := range sortedKeys(tags) {
		if v := tags[k]; v == "*" {
			out = append(out, ec2types.Filter{Name: aws.String("tag-key"), Values: []string{k}})
		} else {
			out = append(out, ec2types.Filter{Name: aws.String("tag:" + k), Values: []string{v}})
		}
	}
	return out
}

func filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

func (p *CloudProvider) resolveSubnets(ctx context.Context, terms []v1.SubnetSelectorTerm) ([]v1.Subnet, error) {
	seen := map[string]v1.Subnet{}
	for _, t := range terms {
		filters := tagFilters(t.Tags)
		if t.ID != "" {
			filters = append(filters, filter("subnet-id", t.ID))
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
	for _, id := range sortedKeys(seen) {
		out = append(out, seen[id])
	}
	return out, nil
}

func (p *CloudProvider) resolveSecurityGroups(ctx context.Context, terms []v1.SecurityGroupSelectorTerm) ([]v1.SecurityGroup, error) {
	seen := map[string]v1.SecurityGroup{}
	for _, t := range terms {
		filters := tagFilters(t.Tags)
		if t.ID != "" {
			filters = append(filters, filter("group-id", t.ID))
		}
		if t.Name != "" {
			filters = append(filters, filter("group-name", t.Name))
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
	for _, id := range sortedKeys(seen) {
		out = append(out, seen[id])
	}
	return out, nil
}

func kubeArch(ec2Arch string) string {
	switch ec2Arch {
	case "x86_64":
		return "amd64"
	case "arm64":
		return "arm64"
	}
	return ""
}

// parameter reads an SSM parameter; a missing one is "".
func (p *CloudProvider) parameter(ctx context.Context, name string) (string, error) {
	out, err := p.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		if apiCode(err) == "ParameterNotFound" {
			return "", nil
		}
		return "", fmt.Errorf("getting SSM parameter %s: %w", name, err)
	}
	if out.Parameter == nil {
		return "", nil
	}
	return aws.ToString(out.Parameter.Value), nil
}

func (p *CloudProvider) describeImages(ctx context.Context, in *ec2.DescribeImagesInput) ([]ec2types.Image, error) {
	var out []ec2types.Image
	pages := ec2.NewDescribeImagesPaginator(p.ec2, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			if strings.HasPrefix(apiCode(err), "InvalidAMIID.") {
				return nil, nil
			}
			return nil, fmt.Errorf("describing images: %w", err)
		}
		out = append(out, page.Images...)
	}
	return out, nil
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func describeTags(tags map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(tags) {
		parts = append(parts, k+"="+tags[k])
	}
	return "tags " + strings.Join(parts, ",")
}

func describeSubnetTerms(terms []v1.SubnetSelectorTerm) string {
	var parts []string
	for _, t := range terms {
		if t.ID != "" {
			parts = append(parts, "id "+t.ID)
		} else {
			parts = append(parts, describeTags(t.Tags))
		}
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func describeSGTerms(terms []v1.SecurityGroupSelectorTerm) string {
	var parts []string
	for _, t := range terms {
		var p []string
		if t.ID != "" {
			p = append(p, "id "+t.ID)
		}
		if t.Name != "" {
			p = append(p, "name "+t.Name)
		}
		if len(t.Tags) > 0 {
			p = append(p, describeTags(t.Tags))
		}
		parts = append(parts, strings.Join(p, " "))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func describeAMITerms(terms []v1.AMISelectorTerm, k8sVersion string) string {
	var parts []string
	for _, t := range terms {
		var p []string
		if t.Alias != "" {
			p = append(p, "alias "+t.Alias+" (Kubernetes "+k8sVersion+")")
		}
		if t.ID != "" {
			p = append(p, "id "+t.ID)
		}
		if t.Name != "" {
			p = append(p, "name "+t.Name)
		}
		if t.Owner != "" {
			p = append(p, "owner "+t.Owner)
		}
		if t.SSMParameter != "" {
			p = append(p, "ssmParameter "+t.SSMParameter)
		}
		if len(t.Tags) > 0 {
			p = append(p, describeTags(t.Tags))
		}
		parts = append(parts, strings.Join(p, " "))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// amiFamily is the node class's image family: the alias's, else spec.amiFamily.
func amiFamily(nc *v1.EC2NodeClass) string {
	for _, t := range nc.Spec.AMISelectorTerms {
		if strings.HasPrefix(t.Alias, "bottlerocket@") {
			return v1.AMIFamilyBottlerocket
		}
		if strings.HasPrefix(t.Alias, "al2023@") {
			return v1.AMIFamilyAL2023
		}
	}
	if nc.Spec.AMIFamily != nil {
		return *nc.Spec.AMIFamily
	}
	return v1.AMIFamilyAL2023
}
