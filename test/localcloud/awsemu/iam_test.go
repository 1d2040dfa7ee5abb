package awsemu

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const trustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

const s3Policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`

func iamClient(t *testing.T, s *Server) *iam.Client {
	cfg := s.Config()
	cfg.RetryMaxAttempts = 1
	return iam.NewFromConfig(cfg)
}

func createRole(t *testing.T, c *iam.Client, name string) *iamtypes.Role {
	t.Helper()
	out, err := c.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trustPolicy)})
	if err != nil {
		t.Fatalf("CreateRole %s: %v", name, err)
	}
	return out.Role
}

func decodeDoc(t *testing.T, doc *string) string {
	t.Helper()
	s, err := url.QueryUnescape(aws.ToString(doc))
	if err != nil {
		t.Fatalf("policy document %q is not URL-encoded: %v", aws.ToString(doc), err)
	}
	return s
}

func TestIAMRoles(t *testing.T) {
	s := NewForTest(t, Options{})
	c := iamClient(t, s)
	ctx := context.Background()

	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("KarpenterNodeRole"), Path: aws.String("/nodes/"),
		AssumeRolePolicyDocument: aws.String(trustPolicy), Description: aws.String("nodes"),
		MaxSessionDuration:  aws.Int32(7200),
		PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"),
		Tags:                []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("nodes")}},
	})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	r := out.Role
	if got, want := aws.ToString(r.Arn), "arn:aws:iam::"+AccountID+":role/nodes/KarpenterNodeRole"; got != want {
		t.Errorf("Arn = %s, want %s", got, want)
	}
	if id := aws.ToString(r.RoleId); !strings.HasPrefix(id, "AROA") || len(id) != 21 {
		t.Errorf("RoleId = %s, want AROA + 17 characters", id)
	}
	if r.CreateDate == nil || r.CreateDate.IsZero() {
		t.Error("CreateDate missing")
	}

	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("KarpenterNodeRole")})
	if err != nil {
		t.Fatalf("GetRole: %v", err)
	}
	g := got.Role
	if decodeDoc(t, g.AssumeRolePolicyDocument) != trustPolicy {
		t.Errorf("AssumeRolePolicyDocument = %s", aws.ToString(g.AssumeRolePolicyDocument))
	}
	if aws.ToString(g.Description) != "nodes" || aws.ToInt32(g.MaxSessionDuration) != 7200 || aws.ToString(g.Path) != "/nodes/" {
		t.Errorf("role fields = %q %d %q", aws.ToString(g.Description), aws.ToInt32(g.MaxSessionDuration), aws.ToString(g.Path))
	}
	if g.PermissionsBoundary == nil || aws.ToString(g.PermissionsBoundary.PermissionsBoundaryArn) != "arn:aws:iam::aws:policy/AdministratorAccess" {
		t.Errorf("PermissionsBoundary = %+v", g.PermissionsBoundary)
	}
	if len(g.Tags) != 1 || aws.ToString(g.Tags[0].Key) != "team" {
		t.Errorf("Tags = %+v", g.Tags)
	}

	// Duplicate names clash regardless of case; bad input is rejected.
	for _, tc := range []struct {
		name string
		in   *iam.CreateRoleInput
		code string
	}{
		{"duplicate", &iam.CreateRoleInput{RoleName: aws.String("karpenternoderole"), AssumeRolePolicyDocument: aws.String(trustPolicy)}, "EntityAlreadyExists"},
		{"not json", &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String("{not json")}, "MalformedPolicyDocument"},
		{"no statement", &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17"}`)}, "MalformedPolicyDocument"},
		{"bad name", &iam.CreateRoleInput{RoleName: aws.String("bad/name"), AssumeRolePolicyDocument: aws.String(trustPolicy)}, "ValidationError"},
		{"bad path", &iam.CreateRoleInput{RoleName: aws.String("r2"), Path: aws.String("nodes"), AssumeRolePolicyDocument: aws.String(trustPolicy)}, "ValidationError"},
		{"missing boundary", &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(trustPolicy), PermissionsBoundary: aws.String("arn:aws:iam::" + AccountID + ":policy/nope")}, "NoSuchEntity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateRole(ctx, tc.in)
			expectCode(t, err, tc.code)
		})
	}

	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("missing")})
	expectCode(t, err, "NoSuchEntity")

	createRole(t, c, "Other")
	list, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil {
		t.Fatalf("ListRoles: %v", err)
	}
	if len(list.Roles) != 2 || aws.ToString(list.Roles[0].RoleName) != "KarpenterNodeRole" || list.IsTruncated {
		t.Errorf("ListRoles = %d roles, truncated %v", len(list.Roles), list.IsTruncated)
	}
	// Paging with MaxItems and Marker, as the SDK paginator drives it.
	p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{MaxItems: aws.Int32(1)})
	var names []string
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListRoles page: %v", err)
		}
		for _, r := range pg.Roles {
			names = append(names, aws.ToString(r.RoleName))
		}
	}
	if strings.Join(names, ",") != "KarpenterNodeRole,Other" {
		t.Errorf("paged roles = %v", names)
	}
	prefixed, err := c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/nodes/")})
	if err != nil || len(prefixed.Roles) != 1 {
		t.Errorf("ListRoles PathPrefix: %v, %d roles", err, len(prefixed.Roles))
	}

	newTrust := strings.Replace(trustPolicy, "ec2.amazonaws.com", "pods.eks.amazonaws.com", 1)
	if _, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("Other"), PolicyDocument: aws.String(newTrust)}); err != nil {
		t.Fatalf("UpdateAssumeRolePolicy: %v", err)
	}
	got, _ = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Other")})
	if decodeDoc(t, got.Role.AssumeRolePolicyDocument) != newTrust {
		t.Errorf("trust policy not updated: %s", aws.ToString(got.Role.AssumeRolePolicyDocument))
	}
	_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("Other"), PolicyDocument: aws.String("[]")})
	expectCode(t, err, "MalformedPolicyDocument")

	// Tags.
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("Other"), Tags: []iamtypes.Tag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")},
	}}); err != nil {
		t.Fatalf("TagRole: %v", err)
	}
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("Other"), Tags: []iamtypes.Tag{{Key: aws.String("a"), Value: aws.String("3")}}}); err != nil {
		t.Fatalf("TagRole overwrite: %v", err)
	}
	if _, err := c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("Other"), TagKeys: []string{"b"}}); err != nil {
		t.Fatalf("UntagRole: %v", err)
	}
	tags, err := c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("Other")})
	if err != nil {
		t.Fatalf("ListRoleTags: %v", err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "a" || aws.ToString(tags.Tags[0].Value) != "3" {
		t.Errorf("ListRoleTags = %+v", tags.Tags)
	}
	_, err = c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("missing"), Tags: []iamtypes.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	expectCode(t, err, "NoSuchEntity")

	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Other")}); err != nil {
		t.Fatalf("DeleteRole: %v", err)
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Other")})
	expectCode(t, err, "NoSuchEntity")
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Other")})
	expectCode(t, err, "NoSuchEntity")
}

// TestIAMAnyRegion checks that IAM, being global, answers clients configured for any region.
func TestIAMAnyRegion(t *testing.T) {
	s := NewForTest(t, Options{})
	cfg := s.Config()
	cfg.Region = "eu-west-3"
	c := iam.NewFromConfig(cfg)
	createRole(t, c, "Anywhere")
	if _, err := iamClient(t, s).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("Anywhere")}); err != nil {
		t.Fatalf("GetRole from us-east-1 after creating in eu-west-3: %v", err)
	}
}

func TestIAMManagedPolicies(t *testing.T) {
	s := NewForTest(t, Options{})
	c := iamClient(t, s)
	ctx := context.Background()

	out, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String("NodePolicy"), Path: aws.String("/nw/"), PolicyDocument: aws.String(s3Policy),
		Description: aws.String("d"), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	})
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	arn := aws.ToString(out.Policy.Arn)
	if arn != "arn:aws:iam::"+AccountID+":policy/nw/NodePolicy" || aws.ToString(out.Policy.DefaultVersionId) != "v1" {
		t.Fatalf("policy = %s %s", arn, aws.ToString(out.Policy.DefaultVersionId))
	}
	_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("NodePolicy"), PolicyDocument: aws.String(s3Policy)})
	expectCode(t, err, "EntityAlreadyExists")
	_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Bad"), PolicyDocument: aws.String(`{"Statement":[{"Effect":"Maybe","Action":"*"}]}`)})
	expectCode(t, err, "MalformedPolicyDocument")

	got, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetPolicy: %v", err)
	}
	if aws.ToString(got.Policy.PolicyName) != "NodePolicy" || len(got.Policy.Tags) != 1 || !strings.HasPrefix(aws.ToString(got.Policy.PolicyId), "ANPA") {
		t.Errorf("GetPolicy = %+v", got.Policy)
	}
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::" + AccountID + ":policy/AmazonEKS_CNI_IPv6_Policy")})
	expectCode(t, err, "NoSuchEntity")

	for scope, want := range map[iamtypes.PolicyScopeType]func([]iamtypes.Policy) bool{
		iamtypes.PolicyScopeTypeLocal: func(ps []iamtypes.Policy) bool { return len(ps) == 1 && aws.ToString(ps[0].Arn) == arn },
		iamtypes.PolicyScopeTypeAws: func(ps []iamtypes.Policy) bool {
			for _, p := range ps {
				if aws.ToString(p.Arn) == "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy" {
					return true
				}
			}
			return false
		},
	} {
		l, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: scope})
		if err != nil {
			t.Fatalf("ListPolicies %s: %v", scope, err)
		}
		if !want(l.Policies) {
			t.Errorf("ListPolicies %s returned %d policies, not the expected ones", scope, len(l.Policies))
		}
	}

	// Versions: up to five, newest listed first, documents URL-encoded.
	docs := []string{s3Policy}
	for i := 2; i <= 5; i++ {
		doc := strings.Replace(s3Policy, "GetObject", "PutObject"+string(rune('0'+i)), 1)
		docs = append(docs, doc)
		v, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc), SetAsDefault: i == 3})
		if err != nil {
			t.Fatalf("CreatePolicyVersion %d: %v", i, err)
		}
		if aws.ToString(v.PolicyVersion.VersionId) != "v"+string(rune('0'+i)) {
			t.Errorf("version id = %s", aws.ToString(v.PolicyVersion.VersionId))
		}
	}
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(s3Policy)})
	expectCode(t, err, "LimitExceeded")
	got, _ = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if aws.ToString(got.Policy.DefaultVersionId) != "v3" {
		t.Errorf("default version = %s, want v3 (SetAsDefault)", aws.ToString(got.Policy.DefaultVersionId))
	}
	pv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v2")})
	if err != nil {
		t.Fatalf("GetPolicyVersion: %v", err)
	}
	if decodeDoc(t, pv.PolicyVersion.Document) != docs[1] || pv.PolicyVersion.IsDefaultVersion {
		t.Errorf("GetPolicyVersion v2 = %s default=%v", aws.ToString(pv.PolicyVersion.Document), pv.PolicyVersion.IsDefaultVersion)
	}
	if raw := aws.ToString(pv.PolicyVersion.Document); !strings.HasPrefix(raw, "%7B%22Version%22") {
		t.Errorf("document not URL-encoded as IAM does: %s", raw)
	}
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
	expectCode(t, err, "NoSuchEntity")
	versions, err := c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	if err != nil || len(versions.Versions) != 5 || aws.ToString(versions.Versions[0].VersionId) != "v5" {
		t.Fatalf("ListPolicyVersions: %v %+v", err, versions)
	}

	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})
	expectCode(t, err, "DeleteConflict")
	if _, err := c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v5")}); err != nil {
		t.Fatalf("SetDefaultPolicyVersion: %v", err)
	}
	_, err = c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v7")})
	expectCode(t, err, "NoSuchEntity")

	// Deleting needs the extra versions gone and no attachments.
	createRole(t, c, "R")
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("R"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatalf("AttachRolePolicy: %v", err)
	}
	got, _ = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if aws.ToInt32(got.Policy.AttachmentCount) != 1 {
		t.Errorf("AttachmentCount = %d, want 1", aws.ToInt32(got.Policy.AttachmentCount))
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	expectCode(t, err, "DeleteConflict")
	if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("R"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatalf("DetachRolePolicy: %v", err)
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	expectCode(t, err, "DeleteConflict") // still has non-default versions
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		if _, err := c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(v)}); err != nil {
			t.Fatalf("DeletePolicyVersion %s: %v", v, err)
		}
	}
	if _, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}); err != nil {
		t.Fatalf("DeletePolicy: %v", err)
	}
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	expectCode(t, err, "NoSuchEntity")
}

func TestIAMRolePolicies(t *testing.T) {
	s := NewForTest(t, Options{})
	c := iamClient(t, s)
	ctx := context.Background()
	createRole(t, c, "Node")

	builtins := []string{
		"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
		"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
		"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
		"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
		"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
	}
	for _, arn := range builtins {
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("Node"), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatalf("AttachRolePolicy %s: %v", arn, err)
		}
	}
	_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("Node"),
		PolicyArn: aws.String("arn:aws:iam::" + AccountID + ":policy/AmazonEKS_CNI_IPv6_Policy")})
	expectCode(t, err, "NoSuchEntity")
	_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("Ghost"), PolicyArn: aws.String(builtins[0])})
	expectCode(t, err, "NoSuchEntity")

	att, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("Node")})
	if err != nil {
		t.Fatalf("ListAttachedRolePolicies: %v", err)
	}
	if len(att.AttachedPolicies) != len(builtins) || aws.ToString(att.AttachedPolicies[1].PolicyName) != "AmazonEKS_CNI_Policy" {
		t.Errorf("attached = %+v", att.AttachedPolicies)
	}
	pol, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(builtins[0])})
	if err != nil || aws.ToInt32(pol.Policy.AttachmentCount) != 1 {
		t.Errorf("GetPolicy on AWS-managed policy: %v", err)
	}

	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("Node"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(s3Policy)}); err != nil {
		t.Fatalf("PutRolePolicy: %v", err)
	}
	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("Node"), PolicyName: aws.String("bad"), PolicyDocument: aws.String("nope")})
	expectCode(t, err, "MalformedPolicyDocument")
	rp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("Node"), PolicyName: aws.String("inline")})
	if err != nil {
		t.Fatalf("GetRolePolicy: %v", err)
	}
	if decodeDoc(t, rp.PolicyDocument) != s3Policy || aws.ToString(rp.RoleName) != "Node" {
		t.Errorf("GetRolePolicy = %+v", rp)
	}
	_, err = c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("Node"), PolicyName: aws.String("missing")})
	expectCode(t, err, "NoSuchEntity")
	names, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("Node")})
	if err != nil || len(names.PolicyNames) != 1 || names.PolicyNames[0] != "inline" {
		t.Errorf("ListRolePolicies = %v %v", names, err)
	}

	// A role with policies cannot be deleted.
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Node")})
	expectCode(t, err, "DeleteConflict")
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("Node"), PolicyName: aws.String("inline")}); err != nil {
		t.Fatalf("DeleteRolePolicy: %v", err)
	}
	_, err = c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("Node"), PolicyName: aws.String("inline")})
	expectCode(t, err, "NoSuchEntity")
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Node")})
	expectCode(t, err, "DeleteConflict") // managed policies still attached
	for _, arn := range builtins {
		if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("Node"), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatalf("DetachRolePolicy %s: %v", arn, err)
		}
	}
	_, err = c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("Node"), PolicyArn: aws.String(builtins[0])})
	expectCode(t, err, "NoSuchEntity")
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Node")}); err != nil {
		t.Fatalf("DeleteRole after detaching: %v", err)
	}
}

func TestIAMInstanceProfiles(t *testing.T) {
	s := NewForTest(t, Options{})
	c := iamClient(t, s)
	ctx := context.Background()
	createRole(t, c, "NodeRole")
	createRole(t, c, "SecondRole")

	out, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{
		InstanceProfileName: aws.String("nodes_profile"), Path: aws.String("/nodewright/"),
		Tags: []iamtypes.Tag{{Key: aws.String("nodewright.dev/cluster"), Value: aws.String("localcloud")}},
	})
	if err != nil {
		t.Fatalf("CreateInstanceProfile: %v", err)
	}
	ip := out.InstanceProfile
	if aws.ToString(ip.Arn) != "arn:aws:iam::"+AccountID+":instance-profile/nodewright/nodes_profile" ||
		!strings.HasPrefix(aws.ToString(ip.InstanceProfileId), "AIPA") || len(ip.Roles) != 0 {
		t.Errorf("instance profile = %+v", ip)
	}
	_, err = c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("nodes_profile")})
	expectCode(t, err, "EntityAlreadyExists")
	_, err = c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("bad name")})
	expectCode(t, err, "ValidationError")

	if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("nodes_profile"), RoleName: aws.String("NodeRole")}); err != nil {
		t.Fatalf("AddRoleToInstanceProfile: %v", err)
	}
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("nodes_profile"), RoleName: aws.String("SecondRole")})
	expectCode(t, err, "LimitExceeded")
	_, err = c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("nodes_profile"), RoleName: aws.String("Ghost")})
	expectCode(t, err, "NoSuchEntity")

	got, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("nodes_profile")})
	if err != nil {
		t.Fatalf("GetInstanceProfile: %v", err)
	}
	if len(got.InstanceProfile.Roles) != 1 || aws.ToString(got.InstanceProfile.Roles[0].Arn) != "arn:aws:iam::"+AccountID+":role/NodeRole" {
		t.Errorf("profile roles = %+v", got.InstanceProfile.Roles)
	}
	_, err = c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("missing")})
	expectCode(t, err, "NoSuchEntity")

	// Tags.
	if _, err := c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("nodes_profile"),
		Tags: []iamtypes.Tag{{Key: aws.String("extra"), Value: aws.String("1")}}}); err != nil {
		t.Fatalf("TagInstanceProfile: %v", err)
	}
	if _, err := c.UntagInstanceProfile(ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: aws.String("nodes_profile"), TagKeys: []string{"nodewright.dev/cluster"}}); err != nil {
		t.Fatalf("UntagInstanceProfile: %v", err)
	}
	tags, err := c.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("nodes_profile")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "extra" {
		t.Errorf("ListInstanceProfileTags = %+v %v", tags, err)
	}

	if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("other")}); err != nil {
		t.Fatal(err)
	}
	all, err := c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	if err != nil || len(all.InstanceProfiles) != 2 {
		t.Fatalf("ListInstanceProfiles: %v %+v", err, all)
	}
	byPath, err := c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/nodewright/")})
	if err != nil || len(byPath.InstanceProfiles) != 1 {
		t.Fatalf("ListInstanceProfiles PathPrefix: %v %+v", err, byPath)
	}
	forRole, err := c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("NodeRole")})
	if err != nil || len(forRole.InstanceProfiles) != 1 || aws.ToString(forRole.InstanceProfiles[0].InstanceProfileName) != "nodes_profile" {
		t.Fatalf("ListInstanceProfilesForRole: %v %+v", err, forRole)
	}
	_, err = c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("Ghost")})
	expectCode(t, err, "NoSuchEntity")

	// The role and the profile hold on to each other until separated.
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("NodeRole")})
	expectCode(t, err, "DeleteConflict")
	_, err = c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("nodes_profile")})
	expectCode(t, err, "DeleteConflict")
	if _, err := c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("nodes_profile"), RoleName: aws.String("NodeRole")}); err != nil {
		t.Fatalf("RemoveRoleFromInstanceProfile: %v", err)
	}
	_, err = c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("nodes_profile"), RoleName: aws.String("NodeRole")})
	expectCode(t, err, "NoSuchEntity")
	if _, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("nodes_profile")}); err != nil {
		t.Fatalf("DeleteInstanceProfile: %v", err)
	}
	_, err = c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("nodes_profile")})
	expectCode(t, err, "NoSuchEntity")
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("NodeRole")}); err != nil {
		t.Fatalf("DeleteRole: %v", err)
	}
}

func TestIAMOIDCProviders(t *testing.T) {
	s := NewForTest(t, Options{})
	c := iamClient(t, s)
	ctx := context.Background()
	thumb := strings.Repeat("9e", 20)

	out, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://127.0.0.1:6443"), ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{thumb},
		Tags: []iamtypes.Tag{{Key: aws.String("a"), Value: aws.String("b")}},
	})
	if err != nil {
		t.Fatalf("CreateOpenIDConnectProvider: %v", err)
	}
	arn := aws.ToString(out.OpenIDConnectProviderArn)
	if arn != "arn:aws:iam::"+AccountID+":oidc-provider/127.0.0.1:6443" {
		t.Errorf("provider ARN = %s", arn)
	}
	_, err = c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://127.0.0.1:6443")})
	expectCode(t, err, "EntityAlreadyExists")
	_, err = c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("http://insecure")})
	expectCode(t, err, "InvalidInput")

	got, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetOpenIDConnectProvider: %v", err)
	}
	if aws.ToString(got.Url) != "127.0.0.1:6443" || len(got.ClientIDList) != 1 || got.ThumbprintList[0] != thumb || got.CreateDate == nil {
		t.Errorf("provider = %+v", got)
	}
	if _, err := c.TagOpenIDConnectProvider(ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn),
		Tags: []iamtypes.Tag{{Key: aws.String("c"), Value: aws.String("d")}}}); err != nil {
		t.Fatalf("TagOpenIDConnectProvider: %v", err)
	}
	got, _ = c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	if len(got.Tags) != 2 {
		t.Errorf("provider tags = %+v", got.Tags)
	}
	list, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil || len(list.OpenIDConnectProviderList) != 1 || aws.ToString(list.OpenIDConnectProviderList[0].Arn) != arn {
		t.Fatalf("ListOpenIDConnectProviders: %v %+v", err, list)
	}
	if _, err := c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}); err != nil {
		t.Fatalf("DeleteOpenIDConnectProvider: %v", err)
	}
	_, err = c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	expectCode(t, err, "NoSuchEntity")
}

// TestIAMPersistence checks that IAM state survives a restart.
func TestIAMPersistence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	s, err := New(Options{StateFile: file})
	if err != nil {
		t.Fatal(err)
	}
	c := iamClient(t, s)
	ctx := context.Background()
	role := createRole(t, c, "Persistent")
	if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("PersistentProfile")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("PersistentProfile"), RoleName: aws.String("Persistent")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s2 := NewForTest(t, Options{StateFile: file})
	c2 := iamClient(t, s2)
	got, err := c2.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Persistent")})
	if err != nil {
		t.Fatalf("GetRole after restart: %v", err)
	}
	if aws.ToString(got.Role.RoleId) != aws.ToString(role.RoleId) || decodeDoc(t, got.Role.AssumeRolePolicyDocument) != trustPolicy {
		t.Errorf("role after restart = %+v", got.Role)
	}
	ip, err := c2.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("PersistentProfile")})
	if err != nil || len(ip.InstanceProfile.Roles) != 1 {
		t.Fatalf("GetInstanceProfile after restart: %v %+v", err, ip)
	}
}
