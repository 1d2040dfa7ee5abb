// Package iampolicy builds the least-privilege IAM policy the nodewright
// controller runs with. It is pure (no AWS calls) so the Terraform provider,
// documentation and the controller's own tests share one source of truth.
package iampolicy

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

// NodePoolTag is the tag key the controller puts on everything it launches;
// requiring it in requests keeps the controller away from other workloads.
const NodePoolTag = "nodewright.dev/nodepool"

// Options describe the cluster the controller manages.
type Options struct {
	Partition   string // default "aws"
	Region      string
	AccountID   string // "*" when empty
	ClusterName string
	NodeRoleARN string
	// QueueARN is the interruption queue; without it no SQS access is granted.
	QueueARN string
	// SSMParameters are the account's own parameters node classes may name
	// in an AMI selector term's ssmParameter ("/team/amis/*"); AWS's public
	// parameters under /aws/service/ are always readable.
	SSMParameters []string
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid       string                    `json:"Sid"`
	Effect    string                    `json:"Effect"`
	Action    []string                  `json:"Action"`
	Resource  []string                  `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

type document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

func (o Options) withDefaults() Options {
	if o.Partition == "" {
		o.Partition = "aws"
	}
	if o.AccountID == "" {
		o.AccountID = "*"
	}
	return o
}

// Validate reports options that would produce a policy granting nothing or too much.
func (o Options) Validate() error {
	switch {
	case o.Region == "":
		return fmt.Errorf("region is required: the policy scopes EC2 and SSM to one region")
	case o.ClusterName == "":
		return fmt.Errorf("cluster name is required: launches are scoped by the cluster's ownership tag")
	case !strings.HasPrefix(o.NodeRoleARN, "arn:") || !strings.Contains(o.NodeRoleARN, ":role/"):
		return fmt.Errorf("node role ARN %q is not an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)", o.NodeRoleARN)
	case o.QueueARN != "" && !strings.HasPrefix(o.QueueARN, "arn:"):
		return fmt.Errorf("queue ARN %q is not an ARN", o.QueueARN)
	}
	for _, p := range o.SSMParameters {
		if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "/aws/service/") {
			return fmt.Errorf("SSM parameter %q must be a path of this account's, starting with / and not under /aws/service/ (always readable)", p)
		}
	}
	return nil
}

// Statements returns the policy statements, in a stable order.
func Statements(o Options) []Statement {
	o = o.withDefaults()
	p, r, a := o.Partition, o.Region, o.AccountID
	ec2ARN := func(kind string) string { return fmt.Sprintf("arn:%s:ec2:%s:%s:%s/*", p, r, a, kind) }
	clusterTag := "kubernetes.io/cluster/" + o.ClusterName
	inRegion := map[string]any{"aws:RequestedRegion": r}

	// Resources a launch creates, which carry the pool's tags from birth
	// (CreateFleet's tag specifications).
	launched := []string{ec2ARN("fleet"), ec2ARN("instance"), ec2ARN("volume")}
	// Resources a launch creates that CreateFleet cannot tag: the launch
	// template tags them, with the node class's tags, which name no pool.
	launchedByTemplate := []string{ec2ARN("network-interface"), ec2ARN("spot-instances-request")}
	// Resources a launch only references.
	referenced := []string{
		fmt.Sprintf("arn:%s:ec2:%s::image/*", p, r), fmt.Sprintf("arn:%s:ec2:%s::snapshot/*", p, r),
		ec2ARN("security-group"), ec2ARN("subnet"), ec2ARN("capacity-reservation"),
	}
	profileARN := fmt.Sprintf("arn:%s:iam::%s:instance-profile/*", p, a)

	st := []Statement{
		{
			Sid: "EC2Read", Effect: "Allow", Resource: []string{"*"},
			Action: []string{"ec2:DescribeImages", "ec2:DescribeInstanceTypeOfferings",
				"ec2:DescribeInstanceTypes", "ec2:DescribeInstances", "ec2:DescribeLaunchTemplates",
				"ec2:DescribeSecurityGroups", "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets"},
			Condition: map[string]map[string]any{"StringEquals": inRegion},
		},
		{
			Sid: "EC2LaunchReferenced", Effect: "Allow", Resource: referenced,
			Action: []string{"ec2:RunInstances", "ec2:CreateFleet"},
		},
		{
			Sid: "EC2LaunchCreated", Effect: "Allow", Resource: launched,
			Action: []string{"ec2:RunInstances", "ec2:CreateFleet"},
			Condition: map[string]map[string]any{
				"StringEquals": {"aws:RequestTag/" + clusterTag: "owned", "aws:RequestedRegion": r},
				"StringLike":   {"aws:RequestTag/" + NodePoolTag: "*"},
			},
		},
		{
			Sid: "EC2LaunchCreatedByTemplate", Effect: "Allow", Resource: launchedByTemplate,
			Action: []string{"ec2:RunInstances", "ec2:CreateFleet"},
			Condition: map[string]map[string]any{
				"StringEquals": {"aws:RequestTag/" + clusterTag: "owned", "aws:RequestedRegion": r},
			},
		},
		{
			// Launch templates belong to a node class, not a pool, so only
			// the cluster's ownership tag is required on them.
			Sid: "EC2LaunchTemplateCreate", Effect: "Allow", Resource: []string{ec2ARN("launch-template")},
			Action: []string{"ec2:CreateLaunchTemplate"},
			Condition: map[string]map[string]any{
				"StringEquals": {"aws:RequestTag/" + clusterTag: "owned", "aws:RequestedRegion": r},
			},
		},
		{
			// A launch references an existing template, so the template's
			// own tag is what scopes it (a request tag is never present).
			Sid: "EC2LaunchTemplateUse", Effect: "Allow", Resource: []string{ec2ARN("launch-template")},
			Action: []string{"ec2:RunInstances", "ec2:CreateFleet"},
			Condition: map[string]map[string]any{
				"StringEquals": {"aws:ResourceTag/" + clusterTag: "owned", "aws:RequestedRegion": r},
			},
		},
		{
			// Tagging is allowed only as part of the call that creates the
			// resource, so existing resources can never be re-tagged into scope.
			Sid: "EC2TagOnCreate", Effect: "Allow", Resource: append(append(append([]string{}, launched...), launchedByTemplate...), ec2ARN("launch-template")),
			Action: []string{"ec2:CreateTags"},
			Condition: map[string]map[string]any{
				"StringEquals": {"aws:RequestTag/" + clusterTag: "owned", "aws:RequestedRegion": r,
					"ec2:CreateAction": []string{"RunInstances", "CreateFleet", "CreateLaunchTemplate"}},
			},
		},
		{
			Sid: "EC2TerminateOwned", Effect: "Allow", Resource: []string{ec2ARN("instance")},
			Action: []string{"ec2:TerminateInstances"},
			Condition: map[string]map[string]any{
				"StringEquals": {"aws:ResourceTag/" + clusterTag: "owned"},
				"StringLike":   {"aws:ResourceTag/" + NodePoolTag: "*"},
			},
		},
		{
			Sid: "EC2DeleteLaunchTemplateOwned", Effect: "Allow", Resource: []string{ec2ARN("launch-template")},
			Action: []string{"ec2:DeleteLaunchTemplate"},
			Condition: map[string]map[string]any{
				"StringEquals": {"aws:ResourceTag/" + clusterTag: "owned"},
			},
		},
		{
			Sid: "PassNodeRole", Effect: "Allow", Resource: []string{o.NodeRoleARN},
			Action:    []string{"iam:PassRole"},
			Condition: map[string]map[string]any{"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
		},
		{
			Sid: "InstanceProfileCreate", Effect: "Allow", Resource: []string{profileARN},
			Action: []string{"iam:CreateInstanceProfile", "iam:TagInstanceProfile"},
			Condition: map[string]map[string]any{
				"StringEquals": {"aws:RequestTag/" + clusterTag: "owned"},
			},
		},
		{
			Sid: "InstanceProfileManage", Effect: "Allow", Resource: []string{profileARN},
			Action: []string{"iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"},
			Condition: map[string]map[string]any{
				"StringEquals": {"aws:ResourceTag/" + clusterTag: "owned"},
			},
		},
		{
			Sid: "InstanceProfileRead", Effect: "Allow", Resource: []string{profileARN},
			Action: []string{"iam:GetInstanceProfile"},
		},
		{
			Sid: "SSMPublicParameters", Effect: "Allow",
			Resource: []string{fmt.Sprintf("arn:%s:ssm:%s::parameter/aws/service/*", p, r)},
			Action:   []string{"ssm:GetParameter"},
		},
		{
			// The Price List API has no resource-level permissions.
			Sid: "Pricing", Effect: "Allow", Resource: []string{"*"},
			Action: []string{"pricing:GetProducts"},
		},
		{
			Sid: "EKSCluster", Effect: "Allow",
			Resource: []string{fmt.Sprintf("arn:%s:eks:%s:%s:cluster/%s", p, r, a, o.ClusterName)},
			Action:   []string{"eks:DescribeCluster"},
		},
	}
	if len(o.SSMParameters) > 0 {
		var res []string
		for _, name := range o.SSMParameters {
			res = append(res, fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/%s", p, r, a, strings.TrimPrefix(name, "/")))
		}
		st = append(st, Statement{
			// Node classes that pick their AMI by their own parameter.
			Sid: "SSMNodeClassParameters", Effect: "Allow", Resource: res,
			Action: []string{"ssm:GetParameter"},
		})
	}
	if o.QueueARN != "" {
		st = append(st, Statement{
			Sid: "InterruptionQueue", Effect: "Allow", Resource: []string{o.QueueARN},
			Action: []string{"sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"},
		})
	}
	return st
}

// Document returns the policy as IAM JSON.
func Document(o Options) (string, error) {
	if err := o.Validate(); err != nil {
		return "", err
	}
	return Render(Statements(o)), nil
}

// Render writes statements as an IAM policy document. Statements hold only
// strings and string lists, so encoding cannot fail.
func Render(statements []Statement) string {
	b, _ := json.Marshal(document{Version: "2012-10-17", Statement: statements})
	return string(b)
}

// Actions returns every action some statement allows, sorted and unique.
func Actions(o Options) []string {
	seen := map[string]bool{}
	for _, s := range Statements(o) {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			seen[a] = true
		}
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Allows reports whether some statement allows action (ignoring resources
// and conditions); actions may use IAM wildcards.
func Allows(o Options, action string) bool {
	for _, a := range Actions(o) {
		if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(action)); ok {
			return true
		}
	}
	return false
}

// StatementFlows says which controller flows need each statement: without
// the statement, exactly these fail. The least-privilege sweep
// (controller/cloudprovider/awscloud TestLeastPrivilege, make test-iam) measures it
// against the local cloud's IAM enforcement and fails when this table is
// out of date; the controller IAM resource's docs render it.
var StatementFlows = map[string][]string{
	"EC2Read":                      {"node-class resolution", "node-class resolution (own AMI parameter)", "instance types and prices", "provisioning (spot)", "provisioning (on-demand)", "read and garbage collection", "teardown"},
	"EC2LaunchReferenced":          {"provisioning (spot)", "provisioning (on-demand)"},
	"EC2LaunchCreated":             {"provisioning (spot)", "provisioning (on-demand)"},
	"EC2LaunchCreatedByTemplate":   {"provisioning (spot)", "provisioning (on-demand)"},
	"EC2LaunchTemplateCreate":      {"provisioning (spot)", "provisioning (on-demand)"},
	"EC2LaunchTemplateUse":         {"provisioning (spot)", "provisioning (on-demand)"},
	"EC2TagOnCreate":               {"provisioning (spot)", "provisioning (on-demand)"},
	"EC2TerminateOwned":            {"disruption and termination"},
	"EC2DeleteLaunchTemplateOwned": {"teardown"},
	"PassNodeRole":                 {"node-class resolution", "node-class resolution (own AMI parameter)"},
	"InstanceProfileCreate":        {"node-class resolution", "node-class resolution (own AMI parameter)"},
	"InstanceProfileManage":        {"node-class resolution", "node-class resolution (own AMI parameter)", "teardown"},
	"InstanceProfileRead":          {"node-class resolution", "node-class resolution (own AMI parameter)", "teardown"},
	"SSMPublicParameters":          {"node-class resolution"},
	// Without it the price refresh logs the denial and keeps the embedded
	// catalog's on-demand prices: plans drift from the bill, nothing fails.
	"Pricing":           nil,
	"EKSCluster":        {"cluster discovery"},
	"InterruptionQueue": {"interruption"},
	// Only with ami_ssm_parameters; measured by the sweep's own parameter flow.
	"SSMNodeClassParameters": {"node-class resolution (own AMI parameter)"},
}

// NoFailingFlow names the statements no flow fails without, and why each
// is still granted.
var NoFailingFlow = map[string]string{
	"Pricing": "on-demand price refresh: without it the controller logs the denial and prices from the embedded catalog, which drifts from the bill",
}

// FlowsTable renders StatementFlows as a Markdown table, in policy order.
func FlowsTable(o Options) string {
	var b strings.Builder
	b.WriteString("| Statement | Actions | Needed by |\n|---|---|---|\n")
	for _, st := range Statements(o) {
		needs := strings.Join(StatementFlows[st.Sid], ", ")
		if why := NoFailingFlow[st.Sid]; why != "" {
			needs = "no flow fails without it: " + why
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", st.Sid, "`"+strings.Join(st.Action, "`, `")+"`", needs)
	}
	return b.String()
}
