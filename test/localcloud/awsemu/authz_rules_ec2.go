package awsemu

import (
	"maps"
	"slices"
	"strings"
)

// EC2's authorization rules: which resources a launch, a tag or a
// termination is authorized on, with their tags as condition keys.

// --- EC2 ---

func ec2ARN(c *Call, kind, id string) string {
	if kind == "image" || kind == "snapshot" {
		return "arn:aws:ec2:" + c.Region + "::" + kind + "/" + id
	}
	return "arn:aws:ec2:" + c.Region + ":" + AccountID + ":" + kind + "/" + id
}

// ec2Kinds maps resource id prefixes to ARN resource types.
var ec2Kinds = map[string]string{"i": "instance", "lt": "launch-template", "sg": "security-group", "subnet": "subnet",
	"ami": "image", "fleet": "fleet", "vol": "volume", "eni": "network-interface", "sir": "spot-instances-request", "vpc": "vpc", "snap": "snapshot"}

// ec2Resources are existing resources by id, with their tags as
// aws:ResourceTag and, when tags are being set or removed, those as
// aws:RequestTag and aws:TagKeys.
func (s *Server) ec2Resources(c *Call, ids []string, reqTags map[string]string) []authzResource {
	var out []authzResource
	for _, id := range ids {
		prefix, _, _ := strings.Cut(id, "-")
		kind := ec2Kinds[prefix]
		if kind == "" {
			kind = "resource"
		}
		keys := ec2ResourceTagKeys(s.ec2Tags(id))
		maps.Copy(keys, requestTagKeys(reqTags))
		out = append(out, authzResource{arn: ec2ARN(c, kind, id), keys: keys})
	}
	return out
}

// ec2Tags are the tags of an existing EC2 resource.
func (s *Server) ec2Tags(id string) map[string]string {
	st := s.ec2()
	if i := st.Instances[id]; i != nil {
		return i.Tags
	}
	if lt := st.LaunchTemplates[id]; lt != nil {
		return lt.Tags
	}
	for _, sn := range st.Subnets {
		if sn.ID == id {
			return sn.Tags
		}
	}
	for _, sg := range st.SecurityGroups {
		if sg.ID == id {
			return sg.Tags
		}
	}
	for _, im := range st.Images {
		if im.ID == id {
			return im.Tags
		}
	}
	return nil
}

func ec2ResourceTagKeys(tags map[string]string) map[string][]string {
	keys := map[string][]string{}
	for k, v := range tags {
		keys["aws:ResourceTag/"+k] = []string{v}
		keys["ec2:ResourceTag/"+k] = []string{v}
	}
	return keys
}

// requestTagKeys are aws:RequestTag/<key> and aws:TagKeys for tags a
// request sets; none when it sets none, so aws:TagKeys is then absent.
func requestTagKeys(tags map[string]string) map[string][]string {
	keys := map[string][]string{}
	for k, v := range tags {
		keys["aws:RequestTag/"+k] = []string{v}
		keys["aws:TagKeys"] = append(keys["aws:TagKeys"], k)
	}
	slices.Sort(keys["aws:TagKeys"])
	return keys
}

func (s *Server) ltResource(c *Call, lt *LaunchTemplate) authzResource {
	return authzResource{arn: ec2ARN(c, "launch-template", lt.ID), keys: ec2ResourceTagKeys(lt.Tags)}
}

func ec2CreateLaunchTemplateRule(s *Server, c *Call) []authzCheck {
	var in struct {
		TagSpecifications []TagSpecification `query:"TagSpecification"`
	}
	_ = c.Decode(&in)
	tags := tagsFromSpecs(in.TagSpecifications, "launch-template")
	r := authzResource{arn: ec2ARN(c, "launch-template", "*"), keys: requestTagKeys(tags)}
	out := check("ec2:CreateLaunchTemplate", r)
	if len(tags) > 0 {
		out = append(out, tagOnCreate(r, "CreateLaunchTemplate"))
	}
	return out
}

// tagOnCreate is the ec2:CreateTags a create action with tags also needs.
func tagOnCreate(r authzResource, createAction string) authzCheck {
	keys := maps.Clone(r.keys)
	keys["ec2:CreateAction"] = []string{createAction}
	return authzCheck{action: "ec2:CreateTags", resources: []authzResource{{arn: r.arn, keys: keys}}}
}

// launch is what a RunInstances or CreateFleet request launches from.
type launch struct {
	templates []*LaunchTemplate
	images    []string
	subnets   []string
	groups    []string
	profiles  []string // instance profile ARNs
	specs     []TagSpecification
	spot      bool
}

// launchChecks are the checks of a launch under action: every resource it
// references, every resource type it creates (with their request tags),
// CreateTags for the tagged ones, and PassRole for each instance profile's
// role.
func (s *Server) launchChecks(c *Call, action string, l launch, extra ...authzResource) []authzCheck {
	var rs []authzResource
	created := []string{"instance", "volume", "network-interface"}
	if l.spot {
		created = append(created, "spot-instances-request")
	}
	specs := slices.Clone(l.specs)
	for _, lt := range l.templates {
		rs = append(rs, s.ltResource(c, lt))
		specs = append(specs, lt.Data.TagSpecifications...)
		l.images = append(l.images, lt.Data.ImageID)
		l.groups = append(l.groups, lt.Data.SecurityGroupIDs...)
		l.profiles = append(l.profiles, lt.Data.IamInstanceProfile.arn())
	}
	for _, id := range dedupe(l.images) {
		rs = append(rs, authzResource{arn: ec2ARN(c, "image", id), keys: ec2ResourceTagKeys(s.ec2Tags(id))})
	}
	rs = append(rs, s.ec2Resources(c, dedupe(append(l.subnets, l.groups...)), nil)...)
	var tagChecks []authzCheck
	for _, kind := range created {
		r := authzResource{arn: ec2ARN(c, kind, "*"), keys: requestTagKeys(tagsFromSpecs(specs, kind))}
		rs = append(rs, r)
		if len(r.keys) > 0 {
			tagChecks = append(tagChecks, tagOnCreate(r, strings.TrimPrefix(action, "ec2:")))
		}
	}
	for _, r := range extra {
		if len(r.keys) > 0 {
			tagChecks = append(tagChecks, tagOnCreate(r, strings.TrimPrefix(action, "ec2:")))
		}
	}
	out := append(check(action, append(extra, rs...)...), tagChecks...)
	for _, arn := range dedupe(l.profiles) {
		if p := s.world.IAM.InstanceProfile(arn); p != nil {
			for _, role := range p.Roles {
				out = append(out, authzCheck{action: "iam:PassRole", resources: []authzResource{s.passRole(role, "ec2.amazonaws.com")}})
			}
		}
	}
	return out
}

func (s *Server) passRole(roleName, service string) authzResource {
	arn := "arn:aws:iam::" + AccountID + ":role/" + roleName
	if r := s.world.IAM.Roles[strings.ToLower(roleName)]; r != nil {
		arn = r.ARN
	}
	return authzResource{arn: arn, keys: map[string][]string{"iam:PassedToService": {service}}}
}

func ec2RunInstancesRule(s *Server, c *Call) []authzCheck {
	var in struct {
		ImageID               string   `query:"ImageId"`
		SubnetID              string   `query:"SubnetId"`
		SecurityGroupIDs      []string `query:"SecurityGroupId"`
		IamInstanceProfile    ProfileSpec
		LaunchTemplate        fleetLTSpec
		TagSpecifications     []TagSpecification `query:"TagSpecification"`
		InstanceMarketOptions InstanceMarketOptions
	}
	_ = c.Decode(&in)
	l := launch{images: nonEmpty(in.ImageID), subnets: nonEmpty(in.SubnetID), groups: in.SecurityGroupIDs,
		profiles: nonEmpty(in.IamInstanceProfile.arn()), specs: in.TagSpecifications, spot: in.InstanceMarketOptions.MarketType == "spot"}
	if lt, _ := s.resolveLT(in.LaunchTemplate.LaunchTemplateID, in.LaunchTemplate.LaunchTemplateName); lt != nil {
		l.templates = append(l.templates, lt)
		l.spot = l.spot || lt.Data.InstanceMarket.MarketType == "spot"
	}
	return s.launchChecks(c, "ec2:RunInstances", l)
}

// ec2CreateFleetRule authorizes the fleet under ec2:CreateFleet and its
// launches under both ec2:CreateFleet and ec2:RunInstances, as an instant
// fleet's launch is authorized as RunInstances too.
func ec2CreateFleetRule(s *Server, c *Call) []authzCheck {
	var in fleetInput
	_ = c.Decode(&in)
	l := launch{specs: in.TagSpecifications, spot: in.TargetCapacitySpecification.DefaultTargetCapacityType == "spot"}
	for _, cfg := range in.LaunchTemplateConfigs {
		if lt, _ := s.resolveLT(cfg.LaunchTemplateSpecification.LaunchTemplateID, cfg.LaunchTemplateSpecification.LaunchTemplateName); lt != nil {
			l.templates = append(l.templates, lt)
		}
		for _, o := range cfg.Overrides {
			l.subnets = append(l.subnets, nonEmpty(o.SubnetID)...)
			l.images = append(l.images, nonEmpty(o.ImageID)...)
		}
	}
	fleet := authzResource{arn: ec2ARN(c, "fleet", "*"), keys: requestTagKeys(tagsFromSpecs(in.TagSpecifications, "fleet"))}
	out := s.launchChecks(c, "ec2:CreateFleet", l, fleet)
	return append(out, s.launchChecks(c, "ec2:RunInstances", l)[0])
}

// The rules of the EC2 actions served beyond those authz_rules.go lists.
// Per the Service Authorization Reference, DescribeCapacityReservations and
// DescribePlacementGroups take no resource type (so "*"), and
// RebootInstances is authorized on each instance* it names, with the
// instance's tags as aws:ResourceTag and ec2:ResourceTag.
func init() {
	for _, a := range []string{"DescribeCapacityReservations", "DescribePlacementGroups"} {
		authzRules["ec2:"+a] = anyResource("ec2:" + a)
	}
	authzRules["ec2:RebootInstances"] = func(s *Server, c *Call) []authzCheck {
		return check("ec2:RebootInstances", s.ec2Resources(c, formList(c.Form, "InstanceId"), nil)...)
	}
}
