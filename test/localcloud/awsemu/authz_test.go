package awsemu

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Every action the emulator serves must say what IAM authorizes it
// against; an action without a rule would be refused to everyone but the
// administrator.
func TestEveryServedActionHasAnAuthorizationRule(t *testing.T) {
	s := NewForTest(t, Options{})
	n := 0
	for svc, ops := range s.ops {
		for action := range ops {
			n++
			if authzRules[svc+":"+action] == nil {
				t.Errorf("%s:%s has no entry in authzRules", svc, action)
			}
		}
	}
	for _, r := range s.rest {
		n++
		if authzRules["eks:"+r.action] == nil {
			t.Errorf("eks:%s (%s %s) has no entry in authzRules", r.action, r.method, r.pattern)
		}
	}
	if n < 130 {
		t.Errorf("only %d actions registered; the registry walk is broken", n)
	}
}

// userConfig creates a user holding policy and returns a config signing as it.
func userConfig(t testing.TB, s *Server, name, policy string) aws.Config {
	t.Helper()
	ctx := context.Background()
	admin := iam.NewFromConfig(s.Config())
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return withKeys(s, aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// A user may do what its policy allows and nothing else. EC2 refuses with
// UnauthorizedOperation and an encoded message that STS decodes into the
// action and resource; the other services with AccessDenied naming both.
func TestAuthorizationFollowsTheCallersPolicy(t *testing.T) {
	s := NewForTest(t, Options{})
	ctx := context.Background()
	cfg := userConfig(t, s, "reader", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ec2:Describe*","sqs:ListQueues"],"Resource":"*"},
		{"Effect":"Deny","Action":"ec2:DescribeSubnets","Resource":"*"},
		{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:us-east-1::parameter/aws/service/*"}]}`)
	e := ec2.NewFromConfig(cfg)
	if _, err := e.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Errorf("allowed DescribeInstances: %v", err)
	}
	_, err := e.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	if apiCode(err) != "UnauthorizedOperation" || !strings.Contains(err.Error(), "with an explicit deny") {
		t.Fatalf("explicitly denied DescribeSubnets: %v", err)
	}
	_, err = e.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	if apiCode(err) != "UnauthorizedOperation" || !strings.Contains(err.Error(), "arn:aws:ec2:us-east-1:"+AccountID+":instance/i-0123456789abcdef0") {
		t.Fatalf("TerminateInstances without a grant: %v", err)
	}
	encoded := err.Error()[strings.LastIndex(err.Error(), ": ")+2:]
	if _, derr := sts.NewFromConfig(cfg).DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(encoded)}); apiCode(derr) != "AccessDenied" {
		t.Errorf("the user decoded a message without sts:DecodeAuthorizationMessage: %v", derr)
	}
	dec, err := sts.NewFromConfig(s.Config()).DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(encoded)})
	if err != nil {
		t.Fatalf("DecodeAuthorizationMessage: %v", err)
	}
	var d DecodedAuthorization
	if err := json.Unmarshal([]byte(aws.ToString(dec.DecodedMessage)), &d); err != nil {
		t.Fatal(err)
	}
	if d.Allowed || d.Context.Action != "ec2:TerminateInstances" || !strings.HasSuffix(d.Context.Resource, "instance/i-0123456789abcdef0") ||
		d.Context.Principal["arn"] != "arn:aws:iam::"+AccountID+":user/reader" {
		t.Errorf("decoded %+v", d)
	}

	p := ssm.NewFromConfig(cfg)
	if _, err := p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aws/service/eks/optimized-ami/1.37/amazon-linux-2023/x86_64/standard/recommended/image_id")}); err != nil {
		t.Errorf("allowed public parameter: %v", err)
	}
	_, err = p.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/team/ami")})
	if apiCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "ssm:GetParameter on resource: arn:aws:ssm:us-east-1:"+AccountID+":parameter/team/ami") {
		t.Errorf("parameter outside the grant: %v", err)
	}
	if _, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil {
		t.Errorf("allowed ListQueues: %v", err)
	}
	_, err = iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
	if apiCode(err) != "AccessDenied" || !strings.Contains(err.Error(), "because no identity-based policy allows the iam:ListRoles action") {
		t.Errorf("ListRoles without a grant: %v", err)
	}
	_, err = eks.NewFromConfig(cfg).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("localcloud")})
	if apiCode(err) != "AccessDeniedException" {
		t.Errorf("DescribeCluster without a grant: %v", err)
	}
}

// A role's trust policy decides who may assume it, and the session acts
// under the role's policies.
func TestAssumeRoleFollowsTheTrustPolicy(t *testing.T) {
	s := NewForTest(t, Options{})
	ctx := context.Background()
	admin := iam.NewFromConfig(s.Config())
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + AccountID + `:user/ci"},"Action":"sts:AssumeRole"}]}`
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	// ci is named by the trust policy and needs nothing else; other is not.
	ci := userConfig(t, s, "ci", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}]}`)
	other := userConfig(t, s, "other", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	roleARN := aws.String("arn:aws:iam::" + AccountID + ":role/deploy")
	if _, err := sts.NewFromConfig(other).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: aws.String("x")}); apiCode(err) != "AccessDenied" {
		t.Errorf("a user the trust policy does not name assumed the role: %v", err)
	}
	out, err := sts.NewFromConfig(ci).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: aws.String("run1")})
	if err != nil {
		t.Fatalf("the trusted user: %v", err)
	}
	c := out.Credentials
	sess := withKeys(s, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	if _, err := iam.NewFromConfig(sess).ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Errorf("the session's role allows ListRoles: %v", err)
	}
	_, err = ec2.NewFromConfig(sess).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if apiCode(err) != "UnauthorizedOperation" || !strings.Contains(err.Error(), "assumed-role/deploy/run1") {
		t.Errorf("the session acted with its caller's rights, not the role's: %v", err)
	}
}
