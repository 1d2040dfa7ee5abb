package awsemu

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/nodewright/nodewright/test/localcloud/iameval"
)

// authzRules says, for every action the emulator serves, which resources
// IAM authorizes it against and with which condition keys. Source: the
// Service Authorization Reference ("Actions, resources, and condition keys
// for" Amazon EC2, IAM, Amazon SQS, Amazon EventBridge, AWS Systems
// Manager, Amazon EKS, AWS STS and the AWS Price List Service), read on
// 2026-12-05. Actions the reference lists without a resource type are
// authorized against "*". TestEveryServedActionHasAnAuthorizationRule keeps
// this table complete.
//
// Two choices where AWS's behaviour is not spelled out per request:
//   - a launch's request tags for a resource type are the request's tag
//     specifications for that type plus those of its launch template, which
//     AWS applies to the same resources;
//   - a launch asks ec2:CreateTags (with ec2:CreateAction) for each created
//     resource type that gets tags, as AWS documents for tag-on-create.
var authzRules = map[string]authzRule{}

func init() {
	for _, a := range []string{"DescribeAvailabilityZones", "DescribeImages", "DescribeInstanceStatus", "DescribeInstanceTypeOfferings",
		"DescribeInstanceTypes", "DescribeInstances", "DescribeLaunchTemplates", "DescribeSecurityGroups", "DescribeSpotPriceHistory", "DescribeSubnets"} {
		authzRules["ec2:"+a] = anyResource("ec2:" + a)
	}
	authzRules["ec2:CreateLaunchTemplate"] = ec2CreateLaunchTemplateRule
	authzRules["ec2:DeleteLaunchTemplate"] = func(s *Server, c *Call) []authzCheck {
		id := c.Form.Get("LaunchTemplateId")
		if lt, _ := s.resolveLT(id, c.Form.Get("LaunchTemplateName")); lt != nil {
			return check("ec2:DeleteLaunchTemplate", s.ltResource(c, lt))
		}
		return check("ec2:DeleteLaunchTemplate", authzResource{arn: ec2ARN(c, "launch-template", orStar(id))})
	}
	authzRules["ec2:TerminateInstances"] = func(s *Server, c *Call) []authzCheck {
		return check("ec2:TerminateInstances", s.ec2Resources(c, formList(c.Form, "InstanceId"), nil)...)
	}
	for _, a := range []string{"CreateTags", "DeleteTags"} {
		action := "ec2:" + a
		authzRules[action] = func(s *Server, c *Call) []authzCheck {
			tags := map[string]string{}
			for i := 1; ; i++ {
				k := c.Form.Get("Tag." + itoa(i) + ".Key")
				if k == "" {
					break
				}
				tags[k] = c.Form.Get("Tag." + itoa(i) + ".Value")
			}
			return check(action, s.ec2Resources(c, formList(c.Form, "ResourceId"), tags)...)
		}
	}
	authzRules["ec2:RunInstances"] = ec2RunInstancesRule
	authzRules["ec2:CreateFleet"] = ec2CreateFleetRule

	iamRules()
	for _, a := range []string{"GetQueueAttributes", "SetQueueAttributes", "DeleteQueue", "PurgeQueue", "SendMessage", "SendMessageBatch",
		"ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "TagQueue", "UntagQueue", "ListQueueTags"} {
		authzRules["sqs:"+a] = sqsQueueRule("sqs:" + a)
	}
	authzRules["sqs:GetQueueUrl"] = func(s *Server, c *Call) []authzCheck {
		return check("sqs:GetQueueUrl", s.queueResource(s.world.SQS.Queues[c.param("QueueName")], c.param("QueueName")))
	}
	authzRules["sqs:CreateQueue"] = func(s *Server, c *Call) []authzCheck {
		r := authzResource{arn: s.queueARN(c.param("QueueName")), keys: requestTagKeys(c.paramMap("tags"))}
		return check("sqs:CreateQueue", r)
	}
	authzRules["sqs:ListQueues"] = anyResource("sqs:ListQueues")

	for _, a := range []string{"DeleteRule", "DescribeRule", "DisableRule", "EnableRule", "ListTargetsByRule", "PutTargets", "RemoveTargets"} {
		action := "events:" + a
		authzRules[action] = func(s *Server, c *Call) []authzCheck {
			name := c.param("Name")
			if name == "" {
				name = c.param("Rule")
			}
			return check(action, s.ruleResource(c, name, nil))
		}
	}
	authzRules["events:PutRule"] = func(s *Server, c *Call) []authzCheck {
		return check("events:PutRule", s.ruleResource(c, c.param("Name"), c.paramTags("Tags")))
	}
	authzRules["events:ListRules"] = anyResource("events:ListRules")
	authzRules["events:PutEvents"] = func(s *Server, c *Call) []authzCheck {
		return check("events:PutEvents", authzResource{arn: "arn:aws:events:" + c.Region + ":" + AccountID + ":event-bus/default"})
	}
	for _, a := range []string{"TagResource", "UntagResource", "ListTagsForResource"} {
		action := "events:" + a
		authzRules[action] = func(s *Server, c *Call) []authzCheck {
			arn := c.param("ResourceARN")
			name := arn[strings.LastIndex(arn, "/")+1:]
			return check(action, s.ruleResource(c, name, c.paramTags("Tags")))
		}
	}

	for _, a := range []string{"GetParameter", "PutParameter", "DeleteParameter"} {
		action := "ssm:" + a
		authzRules[action] = func(s *Server, c *Call) []authzCheck {
			return check(action, ssmResource(c, c.param("Name")))
		}
	}
	for _, a := range []string{"GetParameters", "DeleteParameters"} {
		action := "ssm:" + a
		authzRules[action] = func(s *Server, c *Call) []authzCheck {
			var rs []authzResource
			for _, n := range c.paramList("Names") {
				rs = append(rs, ssmResource(c, n))
			}
			return check(action, rs...)
		}
	}
	authzRules["ssm:GetParametersByPath"] = func(s *Server, c *Call) []authzCheck {
		return check("ssm:GetParametersByPath", ssmResource(c, c.param("Path")))
	}

	for _, a := range []string{"DescribeServices", "GetAttributeValues", "GetProducts"} {
		authzRules["pricing:"+a] = anyResource("pricing:" + a)
	}

	eksRules()

	authzRules["sts:GetCallerIdentity"] = func(*Server, *Call) []authzCheck { return nil } // never denied, as on AWS
	authzRules["sts:DecodeAuthorizationMessage"] = anyResource("sts:DecodeAuthorizationMessage")
	authzRules["sts:AssumeRole"] = func(s *Server, c *Call) []authzCheck {
		return check("sts:AssumeRole", s.roleTrust(c.Form.Get("RoleArn")))
	}
	// The web identity token is the credential; the trust policy alone
	// decides, in the handler.
	authzRules["sts:AssumeRoleWithWebIdentity"] = func(*Server, *Call) []authzCheck { return nil }
}

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

// --- IAM ---

func iamRules() {
	role := func(action string, tagsParam bool) authzRule {
		return func(s *Server, c *Call) []authzCheck {
			name := c.Form.Get("RoleName")
			var r authzResource
			if ro := s.world.IAM.Roles[strings.ToLower(name)]; ro != nil {
				r = authzResource{arn: ro.ARN, keys: iamResourceTagKeys(ro.Tags)}
			} else {
				path, _ := defaultPath(c.Form.Get("Path"))
				r = authzResource{arn: "arn:aws:iam::" + AccountID + ":role" + path + name, keys: map[string][]string{}}
			}
			if tagsParam {
				maps.Copy(r.keys, requestTagKeys(formTags(c.Form, "Tags.member")))
			}
			if p := c.Form.Get("PolicyArn"); p != "" {
				r.keys["iam:PolicyARN"] = []string{p}
			}
			if b := c.Form.Get("PermissionsBoundary"); b != "" {
				r.keys["iam:PermissionsBoundary"] = []string{b}
			}
			return check(action, r)
		}
	}
	for _, a := range []string{"CreateRole", "TagRole"} {
		authzRules["iam:"+a] = role("iam:"+a, true)
	}
	for _, a := range []string{"GetRole", "UpdateAssumeRolePolicy", "UpdateRole", "UntagRole", "ListRoleTags", "DeleteRole",
		"PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies",
		"PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy", "ListRolePolicies", "ListInstanceProfilesForRole"} {
		authzRules["iam:"+a] = role("iam:"+a, false)
	}

	user := func(action string, tagsParam bool) authzRule {
		return func(s *Server, c *Call) []authzCheck {
			name := c.Form.Get("UserName")
			if name == "" && c.Caller.User != nil {
				name = c.Caller.User.Name
			}
			r := authzResource{arn: "arn:aws:iam::" + AccountID + ":user/" + name, keys: map[string][]string{}}
			if u := s.world.IAM.Users[strings.ToLower(name)]; u != nil {
				r = authzResource{arn: u.ARN, keys: iamResourceTagKeys(u.Tags)}
			}
			if tagsParam {
				maps.Copy(r.keys, requestTagKeys(formTags(c.Form, "Tags.member")))
			}
			if p := c.Form.Get("PolicyArn"); p != "" {
				r.keys["iam:PolicyARN"] = []string{p}
			}
			return check(action, r)
		}
	}
	authzRules["iam:CreateUser"] = user("iam:CreateUser", true)
	for _, a := range []string{"GetUser", "DeleteUser", "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey",
		"AttachUserPolicy", "DetachUserPolicy", "ListAttachedUserPolicies", "PutUserPolicy", "GetUserPolicy", "DeleteUserPolicy", "ListUserPolicies"} {
		authzRules["iam:"+a] = user("iam:"+a, false)
	}

	policy := func(action string) authzRule {
		return func(s *Server, c *Call) []authzCheck {
			arn := c.Form.Get("PolicyArn")
			if arn == "" {
				path, _ := defaultPath(c.Form.Get("Path"))
				arn = "arn:aws:iam::" + AccountID + ":policy" + path + c.Form.Get("PolicyName")
			}
			r := authzResource{arn: arn, keys: requestTagKeys(formTags(c.Form, "Tags.member"))}
			if p, _, err := s.world.IAM.policy(arn); err == nil {
				maps.Copy(r.keys, iamResourceTagKeys(p.Tags))
			}
			return check(action, r)
		}
	}
	for _, a := range []string{"CreatePolicy", "GetPolicy", "CreatePolicyVersion", "GetPolicyVersion", "ListPolicyVersions",
		"DeletePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicy", "TagPolicy"} {
		authzRules["iam:"+a] = policy("iam:" + a)
	}

	profile := func(action string) authzRule {
		return func(s *Server, c *Call) []authzCheck {
			name := c.Form.Get("InstanceProfileName")
			path, _ := defaultPath(c.Form.Get("Path"))
			r := authzResource{arn: "arn:aws:iam::" + AccountID + ":instance-profile" + path + name, keys: requestTagKeys(formTags(c.Form, "Tags.member"))}
			if p := s.world.IAM.InstanceProfiles[strings.ToLower(name)]; p != nil {
				r.arn = p.ARN
				maps.Copy(r.keys, iamResourceTagKeys(p.Tags))
			}
			out := check(action, r)
			// Putting a role in a profile passes it to EC2.
			if action == "iam:AddRoleToInstanceProfile" {
				out = append(out, authzCheck{action: "iam:PassRole", resources: []authzResource{s.passRole(c.Form.Get("RoleName"), "ec2.amazonaws.com")}})
			}
			return out
		}
	}
	for _, a := range []string{"CreateInstanceProfile", "GetInstanceProfile", "DeleteInstanceProfile", "AddRoleToInstanceProfile",
		"RemoveRoleFromInstanceProfile", "TagInstanceProfile", "UntagInstanceProfile", "ListInstanceProfileTags"} {
		authzRules["iam:"+a] = profile("iam:" + a)
	}

	oidc := func(action string) authzRule {
		return func(s *Server, c *Call) []authzCheck {
			arn := c.Form.Get("OpenIDConnectProviderArn")
			if arn == "" {
				u := strings.TrimPrefix(c.Form.Get("Url"), "https://")
				arn = "arn:aws:iam::" + AccountID + ":oidc-provider/" + u
			}
			r := authzResource{arn: arn, keys: requestTagKeys(formTags(c.Form, "Tags.member"))}
			if p := s.world.IAM.OIDCProviders[arn]; p != nil {
				maps.Copy(r.keys, iamResourceTagKeys(p.Tags))
			}
			return check(action, r)
		}
	}
	for _, a := range []string{"CreateOpenIDConnectProvider", "GetOpenIDConnectProvider", "DeleteOpenIDConnectProvider",
		"TagOpenIDConnectProvider", "UntagOpenIDConnectProvider", "ListOpenIDConnectProviderTags"} {
		authzRules["iam:"+a] = oidc("iam:" + a)
	}
	for _, a := range []string{"ListRoles", "ListPolicies", "ListUsers", "ListInstanceProfiles", "ListOpenIDConnectProviders"} {
		authzRules["iam:"+a] = anyResource("iam:" + a)
	}
	// IAM authorizes tags given at creation as a separate tagging action
	// ("Permissions required for tagging IAM resources").
	for create, tag := range map[string]string{"CreateRole": "TagRole", "CreateUser": "TagUser", "CreatePolicy": "TagPolicy",
		"CreateInstanceProfile": "TagInstanceProfile", "CreateOpenIDConnectProvider": "TagOpenIDConnectProvider"} {
		rule := authzRules["iam:"+create]
		authzRules["iam:"+create] = func(s *Server, c *Call) []authzCheck {
			out := rule(s, c)
			if r := out[0].resources[0]; len(r.keys["aws:TagKeys"]) > 0 {
				out = append(out, authzCheck{action: "iam:" + tag, resources: []authzResource{r}})
			}
			return out
		}
	}
}

func iamResourceTagKeys(tags []IAMTag) map[string][]string {
	keys := map[string][]string{}
	for _, t := range tags {
		keys["aws:ResourceTag/"+t.Key] = []string{t.Value}
		keys["iam:ResourceTag/"+t.Key] = []string{t.Value}
	}
	return keys
}

// roleTrust is a role as sts:AssumeRole sees it: its trust policy decides,
// with the caller's identity policies where it names only the account.
func (s *Server) roleTrust(arn string) authzResource {
	r := authzResource{arn: arn, policyKind: iameval.TrustPolicy}
	if role := s.world.IAM.RoleByARN(arn); role != nil {
		r.keys = iamResourceTagKeys(role.Tags)
		r.policy = role.AssumeRolePolicyDocument
		if r.policy == "" {
			r.policy = `{"Version":"2012-10-17","Statement":[]}`
		}
	}
	return r
}

// --- SQS, EventBridge, SSM ---

func sqsQueueRule(action string) authzRule {
	return func(s *Server, c *Call) []authzCheck {
		q, _ := s.queueFromURL(c.param("QueueUrl"))
		name := ""
		if u, err := url.Parse(c.param("QueueUrl")); err == nil {
			name = u.Path[strings.LastIndex(u.Path, "/")+1:]
		}
		r := s.queueResource(q, name)
		if action == "sqs:TagQueue" {
			maps.Copy(r.keys, requestTagKeys(c.paramMap("Tags")))
		}
		return check(action, r)
	}
}

func (s *Server) queueResource(q *Queue, name string) authzResource {
	if q == nil {
		return authzResource{arn: s.queueARN(name), keys: map[string][]string{}}
	}
	keys := map[string][]string{}
	for k, v := range q.Tags {
		keys["aws:ResourceTag/"+k] = []string{v}
	}
	return authzResource{arn: s.queueARN(q.Name), keys: keys, policy: q.Attributes["Policy"], policyKind: iameval.ResourcePolicy}
}

func (s *Server) ruleResource(c *Call, name string, reqTags map[string]string) authzResource {
	keys := requestTagKeys(reqTags)
	if r := s.world.Events.Rules[name]; r != nil {
		for k, v := range r.Tags {
			keys["aws:ResourceTag/"+k] = []string{v}
		}
	}
	return authzResource{arn: "arn:aws:events:" + c.Region + ":" + AccountID + ":rule/" + name, keys: keys}
}

// ssmResource is a parameter's ARN. AWS's public parameters (/aws/service)
// belong to no account, so their ARNs have an empty account field.
func ssmResource(c *Call, name string) authzResource {
	account := AccountID
	if strings.HasPrefix(name, "/aws/service/") {
		account = ""
	}
	return authzResource{arn: "arn:aws:ssm:" + c.Region + ":" + account + ":parameter/" + strings.TrimPrefix(name, "/")}
}

// --- EKS ---

// eksRules names the REST routes by their IAM actions.
func eksRules() {
	cluster := func(action string) authzRule {
		return func(s *Server, c *Call) []authzCheck {
			name := c.Path["name"] + c.Path["clusterName"]
			return check(action, s.eksClusterResource(c, name))
		}
	}
	for _, a := range []string{"DescribeCluster", "CreateAccessEntry", "ListAccessEntries", "ListPodIdentityAssociations"} {
		authzRules["eks:"+a] = cluster("eks:" + a)
	}
	for _, a := range []string{"DescribeAccessEntry", "UpdateAccessEntry", "DeleteAccessEntry"} {
		action := "eks:" + a
		authzRules[action] = func(s *Server, c *Call) []authzCheck {
			return check(action, authzResource{arn: "arn:aws:eks:" + c.Region + ":" + AccountID + ":access-entry/" + c.Path["clusterName"] + "/*"})
		}
	}
	authzRules["eks:CreatePodIdentityAssociation"] = func(s *Server, c *Call) []authzCheck {
		var in struct{ RoleArn string }
		_ = json.Unmarshal(c.Body, &in)
		out := check("eks:CreatePodIdentityAssociation", s.eksClusterResource(c, c.Path["clusterName"]))
		role := in.RoleArn[strings.LastIndex(in.RoleArn, "/")+1:]
		return append(out, authzCheck{action: "iam:PassRole", resources: []authzResource{s.passRole(role, "pods.eks.amazonaws.com")}})
	}
	for _, a := range []string{"DescribePodIdentityAssociation", "DeletePodIdentityAssociation"} {
		action := "eks:" + a
		authzRules[action] = func(s *Server, c *Call) []authzCheck {
			return check(action, authzResource{arn: "arn:aws:eks:" + c.Region + ":" + AccountID + ":podidentityassociation/" + c.Path["clusterName"] + "/" + c.Path["associationId"]})
		}
	}
	for _, a := range []string{"TagResource", "UntagResource", "ListTagsForResource"} {
		action := "eks:" + a
		authzRules[action] = func(s *Server, c *Call) []authzCheck {
			return check(action, authzResource{arn: c.Path["resourceArn"]})
		}
	}
	authzRules["eks:ListClusters"] = anyResource("eks:ListClusters")
}

func (s *Server) eksClusterResource(c *Call, name string) authzResource {
	keys := map[string][]string{}
	if name == s.world.Options.ClusterName {
		for k, v := range s.world.EKS.ClusterTags {
			keys["aws:ResourceTag/"+k] = []string{v}
		}
	}
	return authzResource{arn: "arn:aws:eks:" + c.Region + ":" + AccountID + ":cluster/" + name, keys: keys}
}

// --- request parameters, whatever the protocol ---

// param is a top-level string parameter: a form value for the query
// protocols, a JSON member otherwise.
func (c *Call) param(name string) string {
	if c.Form != nil {
		return c.Form.Get(name)
	}
	var v string
	_ = json.Unmarshal(c.jsonMember(name), &v)
	return v
}

func (c *Call) paramList(name string) []string {
	if c.Form != nil {
		return formList(c.Form, name)
	}
	var v []string
	_ = json.Unmarshal(c.jsonMember(name), &v)
	return v
}

// paramMap reads a string map (SQS tags).
func (c *Call) paramMap(name string) map[string]string {
	if c.Form != nil {
		return formTags(c.Form, name)
	}
	var v map[string]string
	_ = json.Unmarshal(c.jsonMember(name), &v)
	return v
}

// paramTags reads a list of {Key, Value} (EventBridge tags).
func (c *Call) paramTags(name string) map[string]string {
	var v []struct{ Key, Value string }
	_ = json.Unmarshal(c.jsonMember(name), &v)
	out := map[string]string{}
	for _, t := range v {
		out[t.Key] = t.Value
	}
	return out
}

func (c *Call) jsonMember(name string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(c.Body, &m) != nil {
		return nil
	}
	return m[name]
}

// formList reads Name.1, Name.2, ... (or Name.member.N).
func formList(f url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		v := f.Get(name + "." + itoa(i))
		if v == "" {
			v = f.Get(name + ".member." + itoa(i))
		}
		if v == "" {
			return out
		}
		out = append(out, v)
	}
}

// formTags reads Prefix.N.Key / Prefix.N.Value (or .Name/.Value pairs).
func formTags(f url.Values, prefix string) map[string]string {
	out := map[string]string{}
	for i := 1; ; i++ {
		p := prefix + "." + itoa(i) + "."
		k := f.Get(p + "Key")
		if k == "" {
			k = f.Get(p + "Name")
		}
		if k == "" {
			return out
		}
		out[k] = f.Get(p + "Value")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func dedupe(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 0 && out[0] == "" {
		out = out[1:]
	}
	return out
}
