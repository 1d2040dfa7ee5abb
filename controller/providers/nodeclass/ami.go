package nodeclass

// AMI resolution: alias families' published images and their variants.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/providers/internal/awsapi"
)

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

func (p *DefaultProvider) resolveAMIs(ctx context.Context, terms []v1.AMISelectorTerm) ([]v1.AMI, error) {
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
					Filters: []ec2types.Filter{awsapi.Filter("name", pinnedImageNames(family, p.opts.KubernetesVersion, version)...)}})
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
			in := &ec2.DescribeImagesInput{Filters: awsapi.TagFilters(t.Tags)}
			if t.ID != "" {
				in.Filters = append(in.Filters, awsapi.Filter("image-id", t.ID))
			}
			if t.Name != "" {
				in.Filters = append(in.Filters, awsapi.Filter("name", t.Name))
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
	for _, key := range slices.Sorted(maps.Keys(newest)) {
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
func (p *DefaultProvider) parameter(ctx context.Context, name string) (string, error) {
	out, err := p.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		if awsapi.ErrorCode(err) == "ParameterNotFound" {
			return "", nil
		}
		return "", fmt.Errorf("getting SSM parameter %s: %w", name, err)
	}
	if out.Parameter == nil {
		return "", nil
	}
	return aws.ToString(out.Parameter.Value), nil
}

func (p *DefaultProvider) describeImages(ctx context.Context, in *ec2.DescribeImagesInput) ([]ec2types.Image, error) {
	var out []ec2types.Image
	pages := ec2.NewDescribeImagesPaginator(p.ec2, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			if strings.HasPrefix(awsapi.ErrorCode(err), "InvalidAMIID.") {
				return nil, nil
			}
			return nil, fmt.Errorf("describing images: %w", err)
		}
		out = append(out, page.Images...)
	}
	return out, nil
}
