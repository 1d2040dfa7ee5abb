package awsemu

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/middleware"
	smithytransport "github.com/aws/smithy-go/transport/http"
)

func stsClient(s *Server) *sts.Client {
	cfg := s.Config()
	cfg.RetryMaxAttempts = 1
	return sts.NewFromConfig(cfg)
}

func TestSTSGetCallerIdentity(t *testing.T) {
	s := NewForTest(t, Options{})
	out, err := stsClient(s).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if aws.ToString(out.Account) != AccountID || aws.ToString(out.Arn) != "arn:aws:iam::"+AccountID+":user/localcloud" || aws.ToString(out.UserId) == "" {
		t.Errorf("identity = %s %s %s", aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId))
	}
}

// TestSTSPresignedGetCallerIdentity follows the EKS bearer-token scheme: a
// presigned GetCallerIdentity URL with x-k8s-aws-id signed in, fetched with GET.
func TestSTSPresignedGetCallerIdentity(t *testing.T) {
	s := NewForTest(t, Options{})
	presigner := sts.NewPresignClient(stsClient(s))
	addHeader := func(stack *smithyhttp.Stack) error {
		return stack.Build.Add(smithyhttp.BuildMiddlewareFunc("AddK8sAwsID", func(ctx context.Context, in smithyhttp.BuildInput, next smithyhttp.BuildHandler) (smithyhttp.BuildOutput, smithyhttp.Metadata, error) {
			if req, ok := in.Request.(*smithytransport.Request); ok {
				req.Header.Add("x-k8s-aws-id", "localcloud")
			}
			return next.HandleBuild(ctx, in)
		}), smithyhttp.After)
	}
	req, err := presigner.PresignGetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}, func(o *sts.PresignOptions) {
		o.ClientOptions = append(o.ClientOptions, func(o *sts.Options) { o.APIOptions = append(o.APIOptions, addHeader) })
	})
	if err != nil {
		t.Fatalf("PresignGetCallerIdentity: %v", err)
	}
	if req.Method != http.MethodGet || !strings.Contains(req.URL, "X-Amz-Credential=") || !strings.Contains(req.URL, "Action=GetCallerIdentity") {
		t.Fatalf("presigned request = %s %s", req.Method, req.URL)
	}
	if !strings.Contains(req.URL, "x-k8s-aws-id") {
		t.Errorf("x-k8s-aws-id is not among the signed headers: %s", req.URL)
	}
	// The token a kubelet would send is this URL, base64url-encoded.
	token := "k8s-aws-v1." + base64.RawURLEncoding.EncodeToString([]byte(req.URL))
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, "k8s-aws-v1."))
	if err != nil {
		t.Fatal(err)
	}
	get, err := http.NewRequest(http.MethodGet, string(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	get.Header.Set("x-k8s-aws-id", "localcloud")
	resp, err := http.DefaultClient.Do(get)
	if err != nil {
		t.Fatalf("GET presigned URL: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET presigned URL: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{"<GetCallerIdentityResult>", "<Account>" + AccountID + "</Account>", "<Arn>arn:aws:iam::" + AccountID + ":user/localcloud</Arn>"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("response lacks %s:\n%s", want, body)
		}
	}

	// Without the signed x-k8s-aws-id header the signature does not match,
	// so a token minted for one cluster is refused by another.
	resp2, err := http.Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	body2, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusForbidden || !strings.Contains(string(body2), "<Code>SignatureDoesNotMatch</Code>") {
		t.Errorf("http.Get presigned URL without its signed header: %d %s, want 403 SignatureDoesNotMatch", resp2.StatusCode, body2)
	}
}

func TestSTSAssumeRole(t *testing.T) {
	s := NewForTest(t, Options{})
	ctx := context.Background()
	out, err := iamClient(t, s).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("PodRole"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + AccountID + `"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	role := out.Role
	// A role that trusts only EC2 cannot be assumed, even by the administrator.
	createRole(t, iamClient(t, s), "Ec2Only")
	_, err = stsClient(s).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + AccountID + ":role/Ec2Only"), RoleSessionName: aws.String("x")})
	expectCode(t, err, "AccessDenied")
	c := stsClient(s)
	roleARN := aws.ToString(role.Arn)

	ar, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("admin"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if !strings.HasPrefix(aws.ToString(ar.Credentials.AccessKeyId), "ASIA") || aws.ToString(ar.AssumedRoleUser.Arn) != "arn:aws:sts::"+AccountID+":assumed-role/PodRole/admin" {
		t.Errorf("AssumeRole = %+v %+v", ar.Credentials, ar.AssumedRoleUser)
	}
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + AccountID + ":role/Nope"), RoleSessionName: aws.String("admin")})
	expectCode(t, err, "AccessDenied")
}
