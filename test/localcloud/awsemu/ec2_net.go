package awsemu

import (
	"sort"
	"strings"
)

// ---- subnets, security groups, images, tags ----

type subnetXML struct {
	SubnetID                string `xml:"subnetId"`
	SubnetArn               string `xml:"subnetArn"`
	State                   string `xml:"state"`
	VpcID                   string `xml:"vpcId"`
	OwnerID                 string `xml:"ownerId"`
	CidrBlock               string `xml:"cidrBlock"`
	AvailableIPAddressCount int    `xml:"availableIpAddressCount"`
	AvailabilityZone        string `xml:"availabilityZone"`
	AvailabilityZoneID      string `xml:"availabilityZoneId"`
	DefaultForAz            bool   `xml:"defaultForAz"`
	MapPublicIPOnLaunch     bool   `xml:"mapPublicIpOnLaunch"`
	MapCustomerOwnedIP      bool   `xml:"mapCustomerOwnedIpOnLaunch"`
	EnableDNS64             bool   `xml:"enableDns64"`
	IPv6Native              bool   `xml:"ipv6Native"`
	PrivateDNSNameOptions   struct {
		HostnameType     string `xml:"hostnameType"`
		EnableARecord    bool   `xml:"enableResourceNameDnsARecord"`
		EnableAAAARecord bool   `xml:"enableResourceNameDnsAAAARecord"`
	} `xml:"privateDnsNameOptionsOnLaunch"`
	TagSet *tagSet `xml:"tagSet,omitempty"`
}

func (s *Server) subnetXML(sn *Subnet) subnetXML {
	x := subnetXML{SubnetID: sn.ID, SubnetArn: "arn:aws:ec2:" + s.world.Region + ":" + AccountID + ":subnet/" + sn.ID,
		State: "available", VpcID: s.ec2().VPCID, OwnerID: AccountID, CidrBlock: sn.CIDR,
		AvailableIPAddressCount: subnetSize - 5 - sn.Used, AvailabilityZone: sn.Zone, AvailabilityZoneID: sn.ZoneID,
		TagSet: tagsXML(sn.Tags)}
	x.PrivateDNSNameOptions.HostnameType = "ip-name"
	return x
}

// subnetView is a subnet with its answer, which the filters read.
type subnetView struct {
	sn *Subnet
	x  subnetXML
}

// subnetFields are DescribeSubnets' filters. The default VPC's subnets are
// IPv4-only private subnets in the region (no Outpost, no customer-owned
// pool, no local network interfaces), so those filters match nothing.
var subnetFields = func() filterFields[subnetView] {
	f := filterFields[subnetView]{
		"availability-zone":                           func(v subnetView) []string { return one(v.x.AvailabilityZone) },
		"availability-zone-id":                        func(v subnetView) []string { return one(v.x.AvailabilityZoneID) },
		"available-ip-address-count":                  func(v subnetView) []string { return intVal(v.x.AvailableIPAddressCount) },
		"cidr-block":                                  func(v subnetView) []string { return one(v.x.CidrBlock) },
		"customer-owned-ipv4-pool":                    func(subnetView) []string { return nil },
		"default-for-az":                              func(v subnetView) []string { return boolVal(v.x.DefaultForAz) },
		"enable-dns64":                                func(v subnetView) []string { return boolVal(v.x.EnableDNS64) },
		"enable-lni-at-device-index":                  func(subnetView) []string { return nil },
		"ipv6-cidr-block-association.ipv6-cidr-block": func(subnetView) []string { return nil },
		"ipv6-cidr-block-association.association-id":  func(subnetView) []string { return nil },
		"ipv6-cidr-block-association.state":           func(subnetView) []string { return nil },
		"ipv6-native":                                 func(v subnetView) []string { return boolVal(v.x.IPv6Native) },
		"map-customer-owned-ip-on-launch":             func(v subnetView) []string { return boolVal(v.x.MapCustomerOwnedIP) },
		"map-public-ip-on-launch":                     func(v subnetView) []string { return boolVal(v.x.MapPublicIPOnLaunch) },
		"outpost-arn":                                 func(subnetView) []string { return nil },
		"owner-id":                                    func(v subnetView) []string { return one(v.x.OwnerID) },
		"private-dns-name-options-on-launch.hostname-type": func(v subnetView) []string {
			return one(v.x.PrivateDNSNameOptions.HostnameType)
		},
		"private-dns-name-options-on-launch.enable-resource-name-dns-a-record": func(v subnetView) []string {
			return boolVal(v.x.PrivateDNSNameOptions.EnableARecord)
		},
		"private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record": func(v subnetView) []string {
			return boolVal(v.x.PrivateDNSNameOptions.EnableAAAARecord)
		},
		"state":      func(v subnetView) []string { return one(v.x.State) },
		"subnet-arn": func(v subnetView) []string { return one(v.x.SubnetArn) },
		"subnet-id":  func(v subnetView) []string { return one(v.x.SubnetID) },
		"vpc-id":     func(v subnetView) []string { return one(v.x.VpcID) },
	}
	// The alternative names the reference gives.
	for alias, name := range map[string]string{"availabilityZone": "availability-zone", "availabilityZoneId": "availability-zone-id",
		"cidr": "cidr-block", "cidrBlock": "cidr-block", "defaultForAz": "default-for-az"} {
		f[alias] = f[name]
	}
	return f
}()

type ec2DescribeSubnetsInput struct {
	DryRun     bool
	SubnetIDs  []string    `query:"SubnetId"`
	Filters    []ec2Filter `query:"Filter"`
	MaxResults int
	NextToken  string
}

type ec2DescribeSubnetsOutput struct {
	Subnets   items[subnetXML] `xml:"subnetSet"`
	NextToken string           `xml:"nextToken,omitempty"`
}

func (s *Server) ec2DescribeSubnets(c *Call, in *ec2DescribeSubnetsInput) (*ec2DescribeSubnetsOutput, error) {
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
	views := make([]subnetView, len(list))
	for i, sn := range list {
		views[i] = subnetView{sn, s.subnetXML(sn)}
	}
	pg, next, err := filterPage("DescribeSubnets", views, in.Filters, subnetFields, func(v subnetView) map[string]string { return v.sn.Tags }, in.NextToken, in.MaxResults, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := ec2DescribeSubnetsOutput{NextToken: next}
	for _, v := range pg {
		out.Subnets.Item = append(out.Subnets.Item, v.x)
	}
	return &out, nil
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
	IPPermissions       items[ipPermissionXML] `xml:"ipPermissions"`
	IPPermissionsEgress items[ipPermissionXML] `xml:"ipPermissionsEgress"`
	TagSet              *tagSet                `xml:"tagSet,omitempty"`
}

type ec2DescribeSecurityGroupsInput struct {
	DryRun     bool
	GroupIDs   []string    `query:"GroupId"`
	GroupNames []string    `query:"GroupName"`
	Filters    []ec2Filter `query:"Filter"`
	MaxResults int
	NextToken  string
}

type ec2DescribeSecurityGroupsOutput struct {
	Groups    items[securityGroupXML] `xml:"securityGroupInfo"`
	NextToken string                  `xml:"nextToken,omitempty"`
}

func (s *Server) ec2DescribeSecurityGroups(c *Call, in *ec2DescribeSecurityGroupsInput) (*ec2DescribeSecurityGroupsOutput, error) {
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
	views := make([]securityGroupView, len(list))
	for i, g := range list {
		views[i] = securityGroupView{g, s.securityGroupXML(g)}
	}
	pg, next, err := filterPage("DescribeSecurityGroups", views, in.Filters, securityGroupFields,
		func(v securityGroupView) map[string]string { return v.g.Tags }, in.NextToken, in.MaxResults, 5, 1000)
	if err != nil {
		return nil, err
	}
	out := ec2DescribeSecurityGroupsOutput{NextToken: next}
	for _, v := range pg {
		out.Groups.Item = append(out.Groups.Item, v.x)
	}
	return &out, nil
}

// securityGroupXML answers for a group: the emulator's groups have no
// inbound rules and the default outbound rule, all traffic to 0.0.0.0/0.
func (s *Server) securityGroupXML(g *SecurityGroup) securityGroupXML {
	x := securityGroupXML{GroupID: g.ID, GroupName: g.Name, GroupDescription: g.Description, VpcID: s.ec2().VPCID, OwnerID: AccountID,
		SecurityGroupArn: "arn:aws:ec2:" + s.world.Region + ":" + AccountID + ":security-group/" + g.ID, TagSet: tagsXML(g.Tags)}
	egress := ipPermissionXML{IPProtocol: "-1"}
	egress.IPRanges.Item = append(egress.IPRanges.Item, struct {
		CidrIP string `xml:"cidrIp"`
	}{"0.0.0.0/0"})
	x.IPPermissionsEgress.Item = []ipPermissionXML{egress}
	return x
}

type securityGroupView struct {
	g *SecurityGroup
	x securityGroupXML
}

// permissionFields reads the rules of one direction. Rules here name no
// ports (all traffic), no IPv6 ranges, prefix lists or group pairs, so
// those filters match nothing.
func permissionFields(f filterFields[securityGroupView], prefix string, perms func(securityGroupXML) []ipPermissionXML) {
	f[prefix+"cidr"] = func(v securityGroupView) []string {
		var out []string
		for _, p := range perms(v.x) {
			for _, r := range p.IPRanges.Item {
				out = append(out, r.CidrIP)
			}
		}
		return out
	}
	f[prefix+"protocol"] = func(v securityGroupView) []string {
		var out []string
		for _, p := range perms(v.x) {
			out = append(out, p.IPProtocol)
		}
		return out
	}
	for _, name := range []string{"from-port", "to-port", "group-id", "group-name", "ipv6-cidr", "prefix-list-id", "user-id"} {
		f[prefix+name] = func(securityGroupView) []string { return nil }
	}
}

var securityGroupFields = func() filterFields[securityGroupView] {
	f := filterFields[securityGroupView]{
		"description": func(v securityGroupView) []string { return one(v.x.GroupDescription) },
		"group-id":    func(v securityGroupView) []string { return one(v.x.GroupID) },
		"group-name":  func(v securityGroupView) []string { return one(v.x.GroupName) },
		"owner-id":    func(v securityGroupView) []string { return one(v.x.OwnerID) },
		"vpc-id":      func(v securityGroupView) []string { return one(v.x.VpcID) },
	}
	permissionFields(f, "egress.ip-permission.", func(x securityGroupXML) []ipPermissionXML { return x.IPPermissionsEgress.Item })
	permissionFields(f, "ip-permission.", func(x securityGroupXML) []ipPermissionXML { return x.IPPermissions.Item })
	return f
}()

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
		if err := checkInstanceID(id); err != nil {
			return nil, nil, err
		}
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

// checkTags validates a CreateTags or DeleteTags request.
func (s *Server) checkTags(in *tagsInput) error {
	if len(in.ResourceIDs) == 0 {
		return errMissingParameter("ResourceId")
	}
	for _, t := range in.Tags {
		if t.Key == "" {
			return errInvalidParameterValue("Tag keys must not be empty")
		}
	}
	// AWS checks the form of every id, then that each exists, before
	// changing any.
	for _, id := range in.ResourceIDs {
		if strings.HasPrefix(id, "i-") {
			if err := checkInstanceID(id); err != nil {
				return err
			}
		}
	}
	for _, id := range in.ResourceIDs {
		if _, _, err := s.taggable(id); err != nil {
			return err
		}
	}
	if in.DryRun {
		return errDryRun()
	}
	return nil
}

type returnXML struct {
	Return bool `xml:"return"`
}

func (s *Server) ec2CreateTags(c *Call, in *tagsInput) (*returnXML, error) {
	if err := s.checkTags(in); err != nil {
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
	return &returnXML{true}, nil
}

// ec2DeleteTags removes the named keys; a tag given with a value is only
// removed when the value matches, as in EC2. No tags removes all of them.
func (s *Server) ec2DeleteTags(c *Call, in *tagsInput) (*returnXML, error) {
	if err := s.checkTags(in); err != nil {
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
	return &returnXML{true}, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
