package awscloud

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/providers/nodeclass"
)

// launchTemplateName names a template by the hash of everything in it, so
// that equal configurations share one and a changed one gets a new one.
func (p *CloudProvider) launchTemplateName(hash string) string {
	return "nodewright/" + p.opts.ClusterName + "/" + hash
}

// ensureLaunchTemplate returns the name of a launch template holding data,
// creating it the first time.
func (p *CloudProvider) ensureLaunchTemplate(ctx context.Context, nodeClass string, data *ec2types.RequestLaunchTemplateData) (string, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("hashing launch template data: %w", err)
	}
	sum := sha256.Sum256(append([]byte(nodeClass+"\x00"), raw...))
	name := p.launchTemplateName(hex.EncodeToString(sum[:])[:20])
	if _, ok := p.templates.Load(name); ok {
		return name, nil
	}
	_, err = p.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: data,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeLaunchTemplate, Tags: ec2Tags(map[string]string{
			p.clusterTag(): "owned", v1.EKSClusterNameTagKey: p.opts.ClusterName, v1.EC2NodeClassTagKey: nodeClass,
		})}},
	})
	if err != nil && apiCode(err) != "InvalidLaunchTemplateName.AlreadyExistsException" {
		return "", fmt.Errorf("creating launch template %s: %w", name, err)
	}
	p.templates.Store(name, true)
	return name, nil
}

// forgetLaunchTemplate drops a template someone else deleted, so the next
// launch recreates it.
func (p *CloudProvider) forgetLaunchTemplate(name string) { p.templates.Delete(name) }

// DeleteLaunchTemplates deletes the launch templates the provider made for
// a node class, or for the whole cluster when nodeClass is empty (tearing a
// cluster down).
func (p *CloudProvider) DeleteLaunchTemplates(ctx context.Context, nodeClass string) (int, error) {
	filters := []ec2types.Filter{filter("tag:"+p.clusterTag(), "owned")}
	if nodeClass != "" {
		filters = append(filters, filter("tag:"+v1.EC2NodeClassTagKey, nodeClass))
	}
	pages := ec2.NewDescribeLaunchTemplatesPaginator(p.ec2, &ec2.DescribeLaunchTemplatesInput{Filters: filters})
	var names []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("describing launch templates: %w", err)
		}
		for _, lt := range page.LaunchTemplates {
			if n := aws.ToString(lt.LaunchTemplateName); strings.HasPrefix(n, p.launchTemplateName("")) {
				names = append(names, n)
			}
		}
	}
	deleted := 0
	for _, n := range names {
		p.forgetLaunchTemplate(n)
		_, err := p.ec2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String(n)})
		if err != nil && !strings.HasPrefix(apiCode(err), "InvalidLaunchTemplateName.NotFound") {
			return deleted, fmt.Errorf("deleting launch template %s: %w", n, err)
		}
		deleted++
	}
	return deleted, nil
}

func ec2Tags(m map[string]string) []ec2types.Tag {
	out := make([]ec2types.Tag, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// launchTemplateData is the part of a launch that every offering of a node
// class and image shares. A launch also creates a network interface, and a
// spot request for spot; CreateFleet cannot tag those, so the template does,
// with the node class's tags: IAM authorizes their creation on those
// request tags, and the controller's policy requires the cluster's.
func (p *CloudProvider) launchTemplateData(nc *v1.EC2NodeClass, imageID, userData string) *ec2types.RequestLaunchTemplateData {
	tags := ec2Tags(p.nodeClassTags(nc))
	d := &ec2types.RequestLaunchTemplateData{
		ImageId:             aws.String(imageID),
		UserData:            aws.String(userData),
		IamInstanceProfile:  &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String(nc.Status.InstanceProfile)},
		MetadataOptions:     metadataOptions(nc.Spec.MetadataOptions),
		BlockDeviceMappings: blockDevices(nc),
		TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{
			{ResourceType: ec2types.ResourceTypeNetworkInterface, Tags: tags},
			{ResourceType: ec2types.ResourceTypeSpotInstancesRequest, Tags: tags},
		},
	}
	for _, g := range nc.Status.SecurityGroups {
		d.SecurityGroupIds = append(d.SecurityGroupIds, g.ID)
	}
	return d
}

// metadataOptions default to IMDSv2 only with a hop limit of 1, so pods
// can't reach the node's credentials.
func metadataOptions(m *v1.MetadataOptions) *ec2types.LaunchTemplateInstanceMetadataOptionsRequest {
	out := &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{
		HttpEndpoint:            ec2types.LaunchTemplateInstanceMetadataEndpointStateEnabled,
		HttpProtocolIpv6:        ec2types.LaunchTemplateInstanceMetadataProtocolIpv6Disabled,
		HttpPutResponseHopLimit: aws.Int32(1),
		HttpTokens:              ec2types.LaunchTemplateHttpTokensStateRequired,
	}
	if m == nil {
		return out
	}
	if m.HTTPEndpoint != nil {
		out.HttpEndpoint = ec2types.LaunchTemplateInstanceMetadataEndpointState(*m.HTTPEndpoint)
	}
	if m.HTTPProtocolIPv6 != nil {
		out.HttpProtocolIpv6 = ec2types.LaunchTemplateInstanceMetadataProtocolIpv6(*m.HTTPProtocolIPv6)
	}
	if m.HTTPPutResponseHopLimit != nil {
		out.HttpPutResponseHopLimit = aws.Int32(int32(*m.HTTPPutResponseHopLimit))
	}
	if m.HTTPTokens != nil {
		out.HttpTokens = ec2types.LaunchTemplateHttpTokensState(*m.HTTPTokens)
	}
	return out
}

// The family default volumes, as Karpenter's (pkg/providers/amifamily
// DefaultEBS: encrypted gp3, 20Gi; Bottlerocket adds a 4Gi OS volume).
const (
	defaultDataVolumeGiB    = 20
	bottlerocketOSVolumeGiB = 4
	defaultVolumeType       = ec2types.VolumeTypeGp3
)

// blockDevices are the node class's, else the family's default root volume:
// 20 GiB encrypted gp3 (Bottlerocket adds its small OS volume first).
func blockDevices(nc *v1.EC2NodeClass) []ec2types.LaunchTemplateBlockDeviceMappingRequest {
	ebs := func(gib int32) *ec2types.LaunchTemplateEbsBlockDeviceRequest {
		return &ec2types.LaunchTemplateEbsBlockDeviceRequest{VolumeSize: aws.Int32(gib), VolumeType: defaultVolumeType,
			Encrypted: aws.Bool(true), DeleteOnTermination: aws.Bool(true)}
	}
	if len(nc.Spec.BlockDeviceMappings) == 0 {
		if nodeclass.AMIFamily(nc) == v1.AMIFamilyBottlerocket {
			return []ec2types.LaunchTemplateBlockDeviceMappingRequest{
				{DeviceName: aws.String("/dev/xvda"), Ebs: ebs(bottlerocketOSVolumeGiB)},
				{DeviceName: aws.String("/dev/xvdb"), Ebs: ebs(defaultDataVolumeGiB)},
			}
		}
		return []ec2types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvda"), Ebs: ebs(defaultDataVolumeGiB)}}
	}
	var out []ec2types.LaunchTemplateBlockDeviceMappingRequest
	for _, b := range nc.Spec.BlockDeviceMappings {
		m := ec2types.LaunchTemplateBlockDeviceMappingRequest{DeviceName: b.DeviceName}
		if e := b.EBS; e != nil {
			r := &ec2types.LaunchTemplateEbsBlockDeviceRequest{Encrypted: e.Encrypted, DeleteOnTermination: e.DeleteOnTermination,
				KmsKeyId: e.KMSKeyID, SnapshotId: e.SnapshotID}
			if e.VolumeSize != nil {
				r.VolumeSize = aws.Int32(int32(gibCeil(*e.VolumeSize)))
			}
			if e.VolumeType != nil {
				r.VolumeType = ec2types.VolumeType(*e.VolumeType)
			}
			if e.IOPS != nil {
				r.Iops = aws.Int32(int32(*e.IOPS))
			}
			if e.Throughput != nil {
				r.Throughput = aws.Int32(int32(*e.Throughput))
			}
			m.Ebs = r
		}
		out = append(out, m)
	}
	return out
}

func gibCeil(q resource.Quantity) int64 {
	const gib = 1 << 30
	return (q.Value() + gib - 1) / gib
}
