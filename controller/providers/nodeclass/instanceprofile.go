package nodeclass

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/providers/internal/awsapi"
)

// InstanceProfileName is the name of the profile nodewright manages for a
// node class with spec.role: stable across restarts, unique per cluster,
// region and node class, and within IAM's 128 characters.
func (p *DefaultProvider) InstanceProfileName(nodeClass string) string {
	h := fnv.New64a()
	_, _ = fmt.Fprintf(h, "%s/%s/%s", p.opts.Region, p.opts.ClusterName, nodeClass)
	prefix := p.opts.ClusterName
	if len(prefix) > 100 {
		prefix = prefix[:100]
	}
	return fmt.Sprintf("%s_%016x", prefix, h.Sum64())
}

func (p *DefaultProvider) resolveInstanceProfile(ctx context.Context, nc *v1.EC2NodeClass) (string, error) {
	if nc.Spec.InstanceProfile != nil {
		name := *nc.Spec.InstanceProfile
		if _, err := p.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)}); err != nil {
			if awsapi.ErrorCode(err) == "NoSuchEntity" {
				return "", &notFoundError{fmt.Sprintf("instance profile %s does not exist", name)}
			}
			return "", fmt.Errorf("getting instance profile %s: %w", name, err)
		}
		return name, nil
	}
	if nc.Spec.Role == "" {
		return "", &notFoundError{"neither spec.role nor spec.instanceProfile is set"}
	}
	name := p.InstanceProfileName(nc.Name)
	profile, err := p.ensureProfile(ctx, name, nc.Name)
	if err != nil {
		return "", err
	}
	for _, r := range profile.Roles {
		if aws.ToString(r.RoleName) == nc.Spec.Role {
			return name, nil
		}
	}
	// A profile holds one role: swap out the one the spec no longer names.
	for _, r := range profile.Roles {
		if _, err := p.iam.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{
			InstanceProfileName: aws.String(name), RoleName: r.RoleName}); err != nil && awsapi.ErrorCode(err) != "NoSuchEntity" {
			return "", fmt.Errorf("removing role %s from instance profile %s: %w", aws.ToString(r.RoleName), name, err)
		}
	}
	if _, err := p.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{
		InstanceProfileName: aws.String(name), RoleName: aws.String(nc.Spec.Role)}); err != nil {
		if awsapi.ErrorCode(err) == "NoSuchEntity" {
			return "", &notFoundError{fmt.Sprintf("role %s does not exist", nc.Spec.Role)}
		}
		return "", fmt.Errorf("adding role %s to instance profile %s: %w", nc.Spec.Role, name, err)
	}
	return name, nil
}

func (p *DefaultProvider) ensureProfile(ctx context.Context, name, nodeClass string) (*iamtypes.InstanceProfile, error) {
	got, err := p.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err == nil {
		return got.InstanceProfile, nil
	}
	if awsapi.ErrorCode(err) != "NoSuchEntity" {
		return nil, fmt.Errorf("getting instance profile %s: %w", name, err)
	}
	created, err := p.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{
		InstanceProfileName: aws.String(name),
		Path:                aws.String("/nodewright/"),
		Tags: []iamtypes.Tag{
			{Key: aws.String(awsapi.ClusterTag(p.opts.ClusterName)), Value: aws.String("owned")},
			{Key: aws.String(v1.EKSClusterNameTagKey), Value: aws.String(p.opts.ClusterName)},
			{Key: aws.String(v1.EC2NodeClassTagKey), Value: aws.String(nodeClass)},
		},
	})
	if err != nil {
		if awsapi.ErrorCode(err) == "EntityAlreadyExists" {
			return p.ensureProfile(ctx, name, nodeClass)
		}
		return nil, fmt.Errorf("creating instance profile %s: %w", name, err)
	}
	return created.InstanceProfile, nil
}

// DeleteInstanceProfile deletes the profile nodewright created for the node
// class, if any; a profile named in spec.instanceProfile is the user's and
// is left alone. Deleting one that is already gone succeeds.
func (p *DefaultProvider) DeleteInstanceProfile(ctx context.Context, nc *v1.EC2NodeClass) error {
	if nc.Spec.Role == "" {
		return nil
	}
	name := p.InstanceProfileName(nc.Name)
	got, err := p.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		if awsapi.ErrorCode(err) == "NoSuchEntity" {
			return nil
		}
		return fmt.Errorf("getting instance profile %s: %w", name, err)
	}
	for _, r := range got.InstanceProfile.Roles {
		if _, err := p.iam.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{
			InstanceProfileName: aws.String(name), RoleName: r.RoleName}); err != nil && awsapi.ErrorCode(err) != "NoSuchEntity" {
			return fmt.Errorf("removing role %s from instance profile %s: %w", aws.ToString(r.RoleName), name, err)
		}
	}
	if _, err := p.iam.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(name)}); err != nil && awsapi.ErrorCode(err) != "NoSuchEntity" {
		return fmt.Errorf("deleting instance profile %s: %w", name, err)
	}
	return nil
}
