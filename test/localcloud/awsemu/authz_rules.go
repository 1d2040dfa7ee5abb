package awsemu

import (
	"encoding/json"
	"maps"
	"net/url"
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
		// Decoded as the handler decodes it, whichever protocol it came in.
		var in sqsCreateQueueInput
		_ = c.Decode(&in)
		r := authzResource{arn: s.queueARN(in.QueueName), keys: requestTagKeys(in.Tags)}
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
			var in sqsTagQueueInput
			_ = c.Decode(&in)
			maps.Copy(r.keys, requestTagKeys(in.Tags))
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

// ssmResource is a parameter's ARN, as SSM writes it.
func ssmResource(c *Call, name string) authzResource {
	return authzResource{arn: ssmARN(ssmRegion(c), name)}
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
