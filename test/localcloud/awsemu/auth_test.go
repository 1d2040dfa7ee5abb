package awsemu

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	clocktesting "k8s.io/utils/clock/testing"
)

// withKeys is the server's client config signing with other credentials.
func withKeys(s *Server, id, secret, token string) aws.Config {
	cfg := s.Config()
	cfg.RetryMaxAttempts = 1
	cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, token)
	return cfg
}

// callEach makes one read call per protocol family with cfg and returns
// each service's error code ("" on success).
func callEach(t *testing.T, cfg aws.Config) map[string]string {
	t.Helper()
	ctx := context.Background()
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		if err != nil {
			t.Fatalf("not an API error: %v", err)
		}
		return ""
	}
	_, e1 := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	_, e2 := iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
	_, e3 := ssm.NewFromConfig(cfg).GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/aws/service/")})
	_, e4 := eks.NewFromConfig(cfg).ListClusters(ctx, &eks.ListClustersInput{})
	_, e5 := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{})
	return map[string]string{"ec2": code(e1), "iam": code(e2), "ssm": code(e3), "eks": code(e4), "sqs": code(e5)}
}

// An unknown key, a wrong secret and an expired session are refused with
// each service's own error code, through the real SDK clients.
func TestAuthenticationFailuresUseEachServicesCode(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	s := NewForTest(t, Options{Clock: clk})
	ctx := context.Background()

	if got := callEach(t, s.Config()); got["ec2"]+got["iam"]+got["ssm"]+got["eks"]+got["sqs"] != "" {
		t.Fatalf("the administrator is refused: %v", got)
	}
	for _, tc := range []struct {
		name string
		cfg  aws.Config
		want map[string]string
	}{
		{"unknown key", withKeys(s, "AKIAUNKNOWNKEY000000", "x", ""), map[string]string{
			"ec2": "AuthFailure", "iam": "InvalidClientTokenId", "ssm": "UnrecognizedClientException", "eks": "UnrecognizedClientException", "sqs": "InvalidClientTokenId"}},
		{"wrong secret", withKeys(s, AdminAccessKeyID, "not-the-secret", ""), map[string]string{
			"ec2": "AuthFailure", "iam": "SignatureDoesNotMatch", "ssm": "InvalidSignatureException", "eks": "InvalidSignatureException", "sqs": "SignatureDoesNotMatch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := callEach(t, tc.cfg)
			for svc, want := range tc.want {
				if got[svc] != want {
					t.Errorf("%s: code %q, want %q", svc, got[svc], want)
				}
			}
		})
	}

	// A session authenticates as its assumed role until it expires.
	_, err := iam.NewFromConfig(s.Config()).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("reader"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + AccountID + `:root"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	as, err := sts.NewFromConfig(s.Config()).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + AccountID + ":role/reader"), RoleSessionName: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	c := as.Credentials
	sess := withKeys(s, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	id, err := sts.NewFromConfig(sess).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with the session: %v", err)
	}
	if want := "arn:aws:sts::" + AccountID + ":assumed-role/reader/ci"; aws.ToString(id.Arn) != want {
		t.Errorf("caller %s, want %s", aws.ToString(id.Arn), want)
	}
	noToken := withKeys(s, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "")
	if got := callEach(t, noToken); got["iam"] != "InvalidClientTokenId" || got["ec2"] != "AuthFailure" {
		t.Errorf("a session key without its token: %v", got)
	}
	clk.Step(2 * time.Hour)
	got := callEach(t, sess)
	for svc, want := range map[string]string{"ec2": "RequestExpired", "iam": "ExpiredToken", "ssm": "ExpiredTokenException", "eks": "ExpiredTokenException", "sqs": "ExpiredToken"} {
		if got[svc] != want {
			t.Errorf("expired session, %s: code %q, want %q", svc, got[svc], want)
		}
	}
}

// An IAM user's access key authenticates as the user; once deleted, it no
// longer does.
func TestUserAccessKeys(t *testing.T) {
	s := NewForTest(t, Options{})
	ctx := context.Background()
	admin := iam.NewFromConfig(s.Config())
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("deployer")}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("deployer")})
	if err != nil {
		t.Fatal(err)
	}
	k := key.AccessKey
	if !strings.HasPrefix(aws.ToString(k.AccessKeyId), "AKIA") || len(aws.ToString(k.SecretAccessKey)) != 40 {
		t.Errorf("access key %s / secret of %d characters", aws.ToString(k.AccessKeyId), len(aws.ToString(k.SecretAccessKey)))
	}
	cfg := withKeys(s, aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), "")
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:iam::" + AccountID + ":user/deployer"; aws.ToString(id.Arn) != want {
		t.Errorf("caller %s, want %s", aws.ToString(id.Arn), want)
	}
	list, err := admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("deployer")})
	if err != nil || len(list.AccessKeyMetadata) != 1 || list.AccessKeyMetadata[0].Status != "Active" {
		t.Fatalf("ListAccessKeys: %+v %v", list, err)
	}
	if _, err := admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("deployer")}); err == nil {
		t.Error("deleted a user that still has an access key")
	}
	if _, err := admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("deployer"), AccessKeyId: k.AccessKeyId}); err != nil {
		t.Fatal(err)
	}
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") {
		t.Errorf("a deleted key still authenticates: %v", err)
	}
}

// Unsigned requests are refused, except AssumeRoleWithWebIdentity, whose
// token is the credential; NoAuth lets everything through.
func TestUnsignedRequests(t *testing.T) {
	for _, noAuth := range []bool{false, true} {
		s := NewForTest(t, Options{NoAuth: noAuth})
		resp, err := http.Post(s.URL+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{false: 403, true: 200}[noAuth]; resp.StatusCode != want {
			t.Errorf("NoAuth %v: unsigned GetCallerIdentity got %d, want %d", noAuth, resp.StatusCode, want)
		}
		resp, err = http.Post(s.URL+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=AssumeRoleWithWebIdentity&Version=2011-06-15"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 403 {
			t.Errorf("NoAuth %v: unsigned AssumeRoleWithWebIdentity refused as unauthenticated", noAuth)
		}
	}
}
