// Package nodeclass resolves an EC2NodeClass against AWS: its subnets,
// security groups and images (EC2, and SSM for aliases) and its instance
// profile (IAM, created for spec.role). It does I/O through the clients it
// is given. It also says, without I/O, which resolved image runs which
// instance type and which family a class's images are.
package nodeclass

import (
	"context"
	"errors"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// Provider resolves node classes and manages their instance profiles.
type Provider interface {
	// Resolve resolves the EC2NodeClass's selectors against AWS and writes
	// the result into nc.Status: subnets, security groups, AMIs and the
	// instance profile (created for spec.role), with one condition per part
	// and Ready when all are. A selector that matches nothing is not an
	// error: its condition is False with a message saying which terms
	// matched nothing. The error is for AWS failures, and the status is
	// left partly updated.
	Resolve(ctx context.Context, nc *v1.EC2NodeClass) error
	// InstanceProfileName is the name of the profile managed for a node
	// class with spec.role.
	InstanceProfileName(nodeClass string) string
	// DeleteInstanceProfile deletes the profile made for the node class, if
	// any; one named in spec.instanceProfile is the user's and is left
	// alone. Deleting one that is already gone succeeds.
	DeleteInstanceProfile(ctx context.Context, nc *v1.EC2NodeClass) error
}

// Options say which cluster's resources, and which images, a class resolves to.
type Options struct {
	ClusterName string
	Region      string
	// KubernetesVersion picks the images AMI aliases resolve to.
	KubernetesVersion string
}

// DefaultProvider is the Provider on the AWS SDK's clients.
type DefaultProvider struct {
	opts Options
	ec2  EC2API
	ssm  SSMAPI
	iam  IAMAPI
}

var _ Provider = (*DefaultProvider)(nil)

// NewDefaultProvider resolves with the clients given.
func NewDefaultProvider(opts Options, e EC2API, s SSMAPI, i IAMAPI) *DefaultProvider {
	return &DefaultProvider{opts: opts, ec2: e, ssm: s, iam: i}
}

// Resolve implements Provider.
func (p *DefaultProvider) Resolve(ctx context.Context, nc *v1.EC2NodeClass) error {
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
