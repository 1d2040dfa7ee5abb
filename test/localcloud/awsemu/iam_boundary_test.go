package awsemu

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestIAMRolePermissionsBoundary(t *testing.T) {
	s := NewForTest(t, Options{})
	c := iamClient(t, s)
	ctx := context.Background()
	createRole(t, c, "bounded")
	boundary := "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
	get := func() string {
		t.Helper()
		out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("bounded")})
		if err != nil {
			t.Fatal(err)
		}
		if out.Role.PermissionsBoundary == nil {
			return ""
		}
		return aws.ToString(out.Role.PermissionsBoundary.PermissionsBoundaryArn)
	}
	if _, err := c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("bounded"), PermissionsBoundary: aws.String(boundary)}); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != boundary {
		t.Errorf("boundary %q, want %q", got, boundary)
	}
	_, err := c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("bounded"), PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/Nope")})
	expectCode(t, err, "NoSuchEntity")
	_, err = c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("missing"), PermissionsBoundary: aws.String(boundary)})
	expectCode(t, err, "NoSuchEntity")
	if _, err := c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("bounded")}); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != "" {
		t.Errorf("boundary %q after delete", got)
	}
}
