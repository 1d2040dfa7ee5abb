package launchtemplate

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/providers/internal/awsapi"
	"github.com/nodewright/nodewright/controller/providers/nodeclass"
)

// launchTemplateData is the part of a launch that every offering of a node
// class and image shares. A launch also creates a network interface, and a
// spot request for spot. CreateFleet cannot tag spot requests; it could tag
// the interface, but the template does both, as Karpenter's does, with the
// node class's tags: IAM authorizes their creation on those request tags,
// and the controller's policy requires the cluster's. The instance, its
// volumes and the fleet are tagged by CreateFleet (instance.launch).
func (p *DefaultProvider) launchTemplateData(nc *v1.EC2NodeClass, imageID, userData string) *ec2types.RequestLaunchTemplateData {
	tags := awsapi.Tags(NodeClassTags(p.opts.ClusterName, nc))
	d := &ec2types.RequestLaunchTemplateData{
		ImageId:             aws.String(imageID),
		UserData:            aws.String(userData),
		IamInstanceProfile:  &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String(nc.Status.InstanceProfile)},
		MetadataOptions:     metadataOptions(nc.Spec.MetadataOptions),
		BlockDeviceMappings: BlockDevices(nc),
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
	// DefaultDataVolumeGiB is also the size EC2 gives a volume whose
	// mapping leaves it to the snapshot, as far as pricing can know.
	DefaultDataVolumeGiB    = 20
	bottlerocketOSVolumeGiB = 4
	defaultVolumeType       = ec2types.VolumeTypeGp3
)

// BlockDevices are the node class's, else the family's default root volume:
// 20 GiB encrypted gp3 (Bottlerocket adds its small OS volume first).
func BlockDevices(nc *v1.EC2NodeClass) []ec2types.LaunchTemplateBlockDeviceMappingRequest {
	ebs := func(gib int32) *ec2types.LaunchTemplateEbsBlockDeviceRequest {
		return &ec2types.LaunchTemplateEbsBlockDeviceRequest{VolumeSize: aws.Int32(gib), VolumeType: defaultVolumeType,
			Encrypted: aws.Bool(true), DeleteOnTermination: aws.Bool(true)}
	}
	if len(nc.Spec.BlockDeviceMappings) == 0 {
		if nodeclass.AMIFamily(nc) == v1.AMIFamilyBottlerocket {
			return []ec2types.LaunchTemplateBlockDeviceMappingRequest{
				{DeviceName: aws.String("/dev/xvda"), Ebs: ebs(bottlerocketOSVolumeGiB)},
				{DeviceName: aws.String("/dev/xvdb"), Ebs: ebs(DefaultDataVolumeGiB)},
			}
		}
		return []ec2types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvda"), Ebs: ebs(DefaultDataVolumeGiB)}}
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

// NodeClassTags are the tags of everything launched for a node class: its
// own tags and the cluster's ownership tags.
func NodeClassTags(clusterName string, nodeClass *v1.EC2NodeClass) map[string]string {
	tags := map[string]string{}
	for k, v := range nodeClass.Spec.Tags {
		tags[k] = v
	}
	tags[awsapi.ClusterTag(clusterName)] = "owned"
	tags[v1.EKSClusterNameTagKey] = clusterName
	tags[v1.EC2NodeClassTagKey] = nodeClass.Name
	return tags
}
