package aws

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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
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

// aliasParameters are the public SSM parameters of a family's latest
// images for one EC2 architecture, one per variant AWS publishes: AL2023
// has nvidia images on both architectures and neuron ones on x86_64;
// Bottlerocket spells a variant as a suffix of the Kubernetes version, and
// its parameter paths say arm64 where its image names say aarch64.
func aliasParameters(family, k8sVersion, arch string) []string {
	switch family {
	case "al2023":
		variants := []string{"standard", "nvidia"}
		if arch == "x86_64" {
			variants = append(variants, "neuron")
		}
		var out []string
		for _, v := range variants {
			out = append(out, fmt.Sprintf("/aws/service/eks/optimized-ami/%s/amazon-linux-2023/%s/%s/recommended/image_id", k8sVersion, arch, v))
		}
		return out
	case "bottlerocket":
		return []string{
			fmt.Sprintf("/aws/service/bottlerocket/aws-k8s-%s/%s/latest/image_id", k8sVersion, arch),
			fmt.Sprintf("/aws/service/bottlerocket/aws-k8s-%s-nvidia/%s/latest/image_id", k8sVersion, arch),
		}
	}
	return nil
}

// familyImage is an image found for a selector term, with the alias family
// that named it ("" for images a user selected by id, name or tags).
type familyImage struct {
	ec2types.Image
	family string
}

func (p *CloudProvider) resolveAMIs(ctx context.Context, terms []v1.AMISelectorTerm) ([]v1.AMI, error) {
	var images []familyImage
	add := func(family string, found []ec2types.Image) {
		for _, im := range found {
			images = append(images, familyImage{im, family})
		}
	}
	byParameter := func(family, name string) error {
		id, err := p.parameter(ctx, name)
		if err != nil || id == "" {
			return err
		}
		found, err := p.describeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		add(family, found)
		return err
	}
	for _, t := range terms {
		switch {
		case t.Alias != "":
			family, version, _ := strings.Cut(t.Alias, "@")
			if version != "latest" {
				found, err := p.describeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
					Filters: []ec2types.Filter{filter("name", pinnedImageNames(family, p.opts.KubernetesVersion, version)...)}})
				if err != nil {
					return nil, err
				}
				add(family, found)
				continue
			}
			for _, arch := range []string{"x86_64", "arm64"} {
				for _, name := range aliasParameters(family, p.opts.KubernetesVersion, arch) {
					if err := byParameter(family, name); err != nil {
						return nil, err
					}
				}
			}
		case t.SSMParameter != "":
			if err := byParameter("", t.SSMParameter); err != nil {
				return nil, err
			}
		default:
			in := &ec2.DescribeImagesInput{Filters: tagFilters(t.Tags)}
			if t.ID != "" {
				in.Filters = append(in.Filters, filter("image-id", t.ID))
			}
			if t.Name != "" {
				in.Filters = append(in.Filters, filter("name", t.Name))
			}
			if t.Owner != "" {
				in.Owners = []string{t.Owner}
			}
			found, err := p.describeImages(ctx, in)
			if err != nil {
				return nil, err
			}
			add("", found)
		}
	}
	// The newest image per architecture and variant wins: a node class
	// launches one image for each kind of instance type it can run.
	newest := map[string]familyImage{}
	variantsOf := map[string][]string{}
	for _, im := range images {
		arch := kubeArch(string(im.Architecture))
		if arch == "" {
			continue
		}
		variants := imageVariants(im.family, string(im.Architecture), aws.ToString(im.Name))
		for _, variant := range variants {
			key := arch + "/" + variant
			if cur, ok := newest[key]; !ok || aws.ToString(im.CreationDate) > aws.ToString(cur.CreationDate) ||
				(aws.ToString(im.CreationDate) == aws.ToString(cur.CreationDate) && aws.ToString(im.ImageId) < aws.ToString(cur.ImageId)) {
				newest[key] = im
			}
			variantsOf[key] = []string{arch, variant}
		}
	}
	var out []v1.AMI
	for _, key := range sortedKeys(newest) {
		im := newest[key]
		out = append(out, v1.AMI{ID: aws.ToString(im.ImageId), Name: aws.ToString(im.Name),
			Requirements: imageRequirements(variantsOf[key][0], variantsOf[key][1])})
	}
	return out, nil
}

// imageVariants reads which kinds of instance type an EKS-optimized image
// serves from its name, as AWS names them (amazon-eks-node-al2023-x86_64-
// nvidia-1.37-v..., bottlerocket-aws-k8s-1.37-nvidia-x86_64-v...). The
// standard Bottlerocket image for x86_64 carries the Neuron driver too.
// Images a user selected themselves serve every type of their architecture.
func imageVariants(family, ec2Arch, name string) []string {
	switch {
	case family == "":
		return []string{""}
	case strings.Contains(name, "-nvidia-"):
		return []string{"nvidia"}
	case strings.Contains(name, "-neuron-"):
		return []string{"neuron"}
	case family == "bottlerocket" && ec2Arch == "x86_64":
		return []string{"standard", "neuron"}
	}
	return []string{"standard"}
}

// imageRequirements are the instance types an image of a variant runs on:
// the standard images have no accelerator drivers, the nvidia ones serve
// NVIDIA GPUs and the neuron ones AWS Inferentia and Trainium.
func imageRequirements(arch, variant string) []corev1.NodeSelectorRequirement {
	out := []corev1.NodeSelectorRequirement{{Key: corev1.LabelArchStable, Operator: corev1.NodeSelectorOpIn, Values: []string{arch}}}
	switch variant {
	case "standard":
		out = append(out,
			corev1.NodeSelectorRequirement{Key: v1.InstanceGPUCountLabel, Operator: corev1.NodeSelectorOpDoesNotExist},
			corev1.NodeSelectorRequirement{Key: v1.InstanceAcceleratorCountLabel, Operator: corev1.NodeSelectorOpDoesNotExist})
	case "nvidia":
		out = append(out, corev1.NodeSelectorRequirement{Key: v1.InstanceGPUMfrLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{"nvidia"}})
	case "neuron":
		out = append(out, corev1.NodeSelectorRequirement{Key: v1.InstanceAcceleratorMfrLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{"aws"}})
	}
	return out
}

// EKSOptimizedImages are the kinds of image both alias families publish,
// as requirements without ids: standard and nvidia on both architectures,
// neuron on x86_64 (AL2023's own image, Bottlerocket's standard one). The
// offline planner offers what these can launch, as a node class with an
// alias would.
func EKSOptimizedImages() []v1.AMI {
	var out []v1.AMI
	for _, k := range [][2]string{{"amd64", "standard"}, {"amd64", "nvidia"}, {"amd64", "neuron"}, {"arm64", "standard"}, {"arm64", "nvidia"}} {
		out = append(out, v1.AMI{Requirements: imageRequirements(k[0], k[1])})
	}
	return out
}

// Launchable reports whether one of the images can run an instance type
// with these labels.
func Launchable(amis []v1.AMI, labels map[string]string) bool {
	_, ok := imageFor(amis, labels)
	return ok
}

// imageFor is the node class's image for an instance type with these
// labels: the first whose requirements the labels meet.
func imageFor(amis []v1.AMI, labels map[string]string) (string, bool) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: labels}}
	for _, ami := range amis {
		ok, err := corev1helpers.MatchNodeSelectorTerms(node, &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: ami.Requirements}}})
		if err == nil && ok {
			return ami.ID, true
		}
	}
	return "", false
}

// pinnedImageNames are the name patterns of a family's images of one
// release, every variant, as the EKS-optimized images are named. The
// architectures are named: a wildcard there would also match a variant.
func pinnedImageNames(family, k8sVersion, version string) []string {
	switch family {
	case "al2023":
		return []string{fmt.Sprintf("amazon-eks-node-al2023-*-%s-%s", k8sVersion, version)}
	case "bottlerocket":
		var out []string
		for _, flavor := range []string{"", "-nvidia"} {
			for _, arch := range []string{"x86_64", "aarch64"} {
				out = append(out, fmt.Sprintf("bottlerocket-aws-k8s-%s%s-%s-%s-*", k8sVersion, flavor, arch, version))
			}
		}
		return out
	}
	return []string{"no-such-family"}
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
