package awsemu

import (
	"sort"
	"strconv"
	"strings"
)

// ---- subnets, security groups, images, tags ----

type subnetXML struct {
	SubnetID                string  `xml:"subnetId"`
	SubnetArn               string  `xml:"subnetArn"`
	State                   string  `xml:"state"`
	VpcID                   string  `xml:"vpcId"`
	OwnerID                 string  `xml:"ownerId"`
	CidrBlock               string  `xml:"cidrBlock"`
	AvailableIPAddressCount int     `xml:"availableIpAddressCount"`
	AvailabilityZone        string  `xml:"availabilityZone"`
	AvailabilityZoneID      string  `xml:"availabilityZoneId"`
	DefaultForAz            bool    `xml:"defaultForAz"`
	MapPublicIPOnLaunch     bool    `xml:"mapPublicIpOnLaunch"`
	TagSet                  *tagSet `xml:"tagSet,omitempty"`
}

func (s *Server) subnetXML(sn *Subnet) subnetXML {
	return subnetXML{SubnetID: sn.ID, SubnetArn: "arn:aws:ec2:" + s.world.Region + ":" + AccountID + ":subnet/" + sn.ID,
		State: "available", VpcID: s.ec2().VPCID, OwnerID: AccountID, CidrBlock: sn.CIDR,
		AvailableIPAddressCount: subnetSize - 5 - sn.Used, AvailabilityZone: sn.Zone, AvailabilityZoneID: sn.ZoneID,
		TagSet: tagsXML(sn.Tags)}
}

func (s *Server) ec2DescribeSubnets(c *Call) (any, error) {
	var in struct {
		DryRun     bool
		SubnetIDs  []string    `query:"SubnetId"`
		Filters    []ec2Filter `query:"Filter"`
		MaxResults int
		NextToken  string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	list := s.ec2().Subnets
	if len(in.SubnetIDs) > 0 {
		list = nil
		for _, id := range in.SubnetIDs {
			sn := s.subnetByID(id)
			if sn == nil {
				return nil, Errorf(400, "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
			}
			list = append(list, sn)
		}
	}
	vpc := s.ec2().VPCID
	list, err := applyFilters(list, in.Filters, filterFields[*Subnet]{
		"subnet-id":            func(sn *Subnet) []string { return []string{sn.ID} },
		"vpc-id":               func(*Subnet) []string { return []string{vpc} },
		"availability-zone":    func(sn *Subnet) []string { return []string{sn.Zone} },
		"availability-zone-id": func(sn *Subnet) []string { return []string{sn.ZoneID} },
		"cidr-block":           func(sn *Subnet) []string { return []string{sn.CIDR} },
		"state":                func(*Subnet) []string { return []string{"available"} },
		"owner-id":             func(*Subnet) []string { return []string{AccountID} },
		"default-for-az":       func(*Subnet) []string { return []string{"false"} },
	}, func(sn *Subnet) map[string]string { return sn.Tags })
	if err != nil {
		return nil, err
	}
	pg, next, err := page(list, in.NextToken, in.MaxResults, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := struct {
		Subnets   items[subnetXML] `xml:"subnetSet"`
		NextToken string           `xml:"nextToken,omitempty"`
	}{NextToken: next}
	for _, sn := range pg {
		out.Subnets.Item = append(out.Subnets.Item, s.subnetXML(sn))
	}
	return out, nil
}

type ipPermissionXML struct {
	IPProtocol string `xml:"ipProtocol"`
	IPRanges   items[struct {
		CidrIP string `xml:"cidrIp"`
	}] `xml:"ipRanges"`
}

type securityGroupXML struct {
	GroupID             string                 `xml:"groupId"`
	GroupName           string                 `xml:"groupName"`
	GroupDescription    string                 `xml:"groupDescription"`
	VpcID               string                 `xml:"vpcId"`
	OwnerID             string                 `xml:"ownerId"`
	SecurityGroupArn    string                 `xml:"securityGroupArn"`
	IPPermissionsEgress items[ipPermissionXML] `xml:"ipPermissionsEgress"`
	TagSet              *tagSet                `xml:"tagSet,omitempty"`
}

func (s *Server) ec2DescribeSecurityGroups(c *Call) (any, error) {
	var in struct {
		DryRun     bool
		GroupIDs   []string    `query:"GroupId"`
		GroupNames []string    `query:"GroupName"`
		Filters    []ec2Filter `query:"Filter"`
		MaxResults int
		NextToken  string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	list := s.ec2().SecurityGroups
	if len(in.GroupIDs) > 0 || len(in.GroupNames) > 0 {
		list = nil
		for _, id := range in.GroupIDs {
			g := s.groupByID(id)
			if g == nil {
				return nil, Errorf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", id)
			}
			list = append(list, g)
		}
		for _, name := range in.GroupNames {
			var g *SecurityGroup
			for _, cand := range s.ec2().SecurityGroups {
				if cand.Name == name {
					g = cand
				}
			}
			if g == nil {
				return nil, Errorf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, s.ec2().VPCID)
			}
			list = append(list, g)
		}
	}
	vpc := s.ec2().VPCID
	list, err := applyFilters(list, in.Filters, filterFields[*SecurityGroup]{
		"group-id":    func(g *SecurityGroup) []string { return []string{g.ID} },
		"group-name":  func(g *SecurityGroup) []string { return []string{g.Name} },
		"description": func(g *SecurityGroup) []string { return []string{g.Description} },
		"vpc-id":      func(*SecurityGroup) []string { return []string{vpc} },
		"owner-id":    func(*SecurityGroup) []string { return []string{AccountID} },
	}, func(g *SecurityGroup) map[string]string { return g.Tags })
	if err != nil {
		return nil, err
	}
	pg, next, err := page(list, in.NextToken, in.MaxResults, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := struct {
		Groups    items[securityGroupXML] `xml:"securityGroupInfo"`
		NextToken string                  `xml:"nextToken,omitempty"`
	}{NextToken: next}
	for _, g := range pg {
		x := securityGroupXML{GroupID: g.ID, GroupName: g.Name, GroupDescription: g.Description, VpcID: vpc, OwnerID: AccountID,
			SecurityGroupArn: "arn:aws:ec2:" + s.world.Region + ":" + AccountID + ":security-group/" + g.ID, TagSet: tagsXML(g.Tags)}
		egress := ipPermissionXML{IPProtocol: "-1"}
		egress.IPRanges.Item = append(egress.IPRanges.Item, struct {
			CidrIP string `xml:"cidrIp"`
		}{"0.0.0.0/0"})
		x.IPPermissionsEgress.Item = []ipPermissionXML{egress}
		out.Groups.Item = append(out.Groups.Item, x)
	}
	return out, nil
}

type imageXML struct {
	ImageID                string  `xml:"imageId"`
	ImageLocation          string  `xml:"imageLocation"`
	ImageState             string  `xml:"imageState"`
	ImageOwnerID           string  `xml:"imageOwnerId"`
	ImageOwnerAlias        string  `xml:"imageOwnerAlias,omitempty"`
	CreationDate           string  `xml:"creationDate"`
	IsPublic               bool    `xml:"isPublic"`
	Architecture           string  `xml:"architecture"`
	ImageType              string  `xml:"imageType"`
	Name                   string  `xml:"name"`
	Description            string  `xml:"description"`
	RootDeviceType         string  `xml:"rootDeviceType"`
	RootDeviceName         string  `xml:"rootDeviceName"`
	VirtualizationType     string  `xml:"virtualizationType"`
	Hypervisor             string  `xml:"hypervisor"`
	EnaSupport             bool    `xml:"enaSupport"`
	PlatformDetails        string  `xml:"platformDetails"`
	UsageOperation         string  `xml:"usageOperation"`
	BootMode               string  `xml:"bootMode,omitempty"`
	PublicSsmParameterName string  `xml:"publicSsmParameterName,omitempty"`
	TagSet                 *tagSet `xml:"tagSet,omitempty"`
}

func (s *Server) imageByID(id string) *Image {
	for _, im := range s.ec2().Images {
		if im.ID == id {
			return im
		}
	}
	return nil
}

func (s *Server) ec2DescribeImages(c *Call) (any, error) {
	var in struct {
		DryRun     bool
		ImageIDs   []string    `query:"ImageId"`
		Owners     []string    `query:"Owner"`
		Filters    []ec2Filter `query:"Filter"`
		MaxResults int
		NextToken  string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	list := s.ec2().Images
	if len(in.ImageIDs) > 0 {
		list = nil
		for _, id := range in.ImageIDs {
			im := s.imageByID(id)
			if im == nil {
				if !strings.HasPrefix(id, "ami-") {
					return nil, Errorf(400, "InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
				}
				return nil, Errorf(400, "InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
			}
			list = append(list, im)
		}
	}
	if len(in.Owners) > 0 {
		var keep []*Image
		for _, im := range list {
			for _, o := range in.Owners {
				if o == im.Owner || (o == "self" && im.Owner == AccountID) || (o == "amazon" && im.Owner == EKSImageOwner) {
					keep = append(keep, im)
					break
				}
			}
		}
		list = keep
	}
	list, err := applyFilters(list, in.Filters, filterFields[*Image]{
		"image-id":     func(im *Image) []string { return []string{im.ID} },
		"name":         func(im *Image) []string { return []string{im.Name} },
		"owner-id":     func(im *Image) []string { return []string{im.Owner} },
		"owner-alias":  func(im *Image) []string { return []string{ownerAlias(im)} },
		"architecture": func(im *Image) []string { return []string{im.Architecture} },
		"state":        func(*Image) []string { return []string{"available"} },
		"image-type":   func(*Image) []string { return []string{"machine"} },
		"is-public":    func(im *Image) []string { return []string{strconv.FormatBool(im.Owner != AccountID)} },
	}, func(im *Image) map[string]string { return im.Tags })
	if err != nil {
		return nil, err
	}
	pg, next, err := page(list, in.NextToken, in.MaxResults, 1, 1000)
	if err != nil {
		return nil, err
	}
	out := struct {
		Images    items[imageXML] `xml:"imagesSet"`
		NextToken string          `xml:"nextToken,omitempty"`
	}{NextToken: next}
	for _, im := range pg {
		desc := "EKS-optimized Kubernetes node based on Amazon Linux 2023, (k8s: " + im.K8sVersion + ")"
		if im.Family == "bottlerocket" {
			desc = "Bottlerocket OS for Kubernetes " + im.K8sVersion
		}
		out.Images.Item = append(out.Images.Item, imageXML{ImageID: im.ID, ImageLocation: "amazon/" + im.Name, ImageState: "available",
			ImageOwnerID: im.Owner, ImageOwnerAlias: ownerAlias(im), CreationDate: ec2Time(im.CreationDate), IsPublic: im.Owner != AccountID,
			Architecture: im.Architecture, ImageType: "machine", Name: im.Name, Description: desc, RootDeviceType: "ebs",
			RootDeviceName: "/dev/xvda", VirtualizationType: "hvm", Hypervisor: "xen", EnaSupport: true,
			PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances", BootMode: "uefi-preferred",
			TagSet: tagsXML(im.Tags)})
	}
	return out, nil
}

func ownerAlias(im *Image) string {
	if im.Owner == EKSImageOwner {
		return "amazon"
	}
	return ""
}

// taggable finds the tags of a resource by id, or an AWS not-found error.
func (s *Server) taggable(id string) (map[string]string, func(map[string]string), error) {
	st := s.ec2()
	switch {
	case strings.HasPrefix(id, "i-"):
		if in, ok := st.Instances[id]; ok {
			return in.Tags, func(m map[string]string) { in.Tags = m }, nil
		}
		return nil, nil, Errorf(400, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	case strings.HasPrefix(id, "lt-"):
		if lt, ok := st.LaunchTemplates[id]; ok {
			return lt.Tags, func(m map[string]string) { lt.Tags = m }, nil
		}
		return nil, nil, Errorf(400, "InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
	case strings.HasPrefix(id, "subnet-"):
		if sn := s.subnetByID(id); sn != nil {
			return sn.Tags, func(m map[string]string) { sn.Tags = m }, nil
		}
		return nil, nil, Errorf(400, "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	case strings.HasPrefix(id, "sg-"):
		if g := s.groupByID(id); g != nil {
			return g.Tags, func(m map[string]string) { g.Tags = m }, nil
		}
		return nil, nil, Errorf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	case strings.HasPrefix(id, "ami-"):
		if im := s.imageByID(id); im != nil {
			return im.Tags, func(m map[string]string) { im.Tags = m }, nil
		}
		return nil, nil, Errorf(400, "InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
	}
	return nil, nil, Errorf(400, "InvalidID", "The ID '%s' is not valid", id)
}

type tagsInput struct {
	DryRun      bool
	ResourceIDs []string `query:"ResourceId"`
	Tags        []struct {
		Key   string
		Value *string
	} `query:"Tag"`
}

func (s *Server) decodeTags(c *Call) (*tagsInput, error) {
	var in tagsInput
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if len(in.ResourceIDs) == 0 {
		return nil, errMissingParameter("ResourceId")
	}
	for _, t := range in.Tags {
		if t.Key == "" {
			return nil, errInvalidParameterValue("Tag keys must not be empty")
		}
	}
	// AWS checks every id before changing any.
	for _, id := range in.ResourceIDs {
		if _, _, err := s.taggable(id); err != nil {
			return nil, err
		}
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	return &in, nil
}

type returnXML struct {
	Return bool `xml:"return"`
}

func (s *Server) ec2CreateTags(c *Call) (any, error) {
	in, err := s.decodeTags(c)
	if err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, errMissingParameter("Tag")
	}
	for _, t := range in.Tags {
		if strings.HasPrefix(t.Key, "aws:") {
			return nil, errInvalidParameterValue("Tag keys starting with 'aws:' are reserved for internal use")
		}
	}
	for _, id := range in.ResourceIDs {
		tags, set, _ := s.taggable(id)
		if tags == nil {
			tags = map[string]string{}
		}
		for _, t := range in.Tags {
			v := ""
			if t.Value != nil {
				v = *t.Value
			}
			tags[t.Key] = v
		}
		set(tags)
	}
	return returnXML{true}, nil
}

// ec2DeleteTags removes the named keys; a tag given with a value is only
// removed when the value matches, as in EC2. No tags removes all of them.
func (s *Server) ec2DeleteTags(c *Call) (any, error) {
	in, err := s.decodeTags(c)
	if err != nil {
		return nil, err
	}
	for _, id := range in.ResourceIDs {
		tags, set, _ := s.taggable(id)
		if len(in.Tags) == 0 {
			for k := range tags {
				if !strings.HasPrefix(k, "aws:") {
					delete(tags, k)
				}
			}
		}
		for _, t := range in.Tags {
			if cur, ok := tags[t.Key]; ok && (t.Value == nil || *t.Value == cur) {
				delete(tags, t.Key)
			}
		}
		set(tags)
	}
	return returnXML{true}, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
