package awsemu

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
)

var eksTestWorld = WorldOptions{ClusterEndpoint: "https://127.0.0.1:6443", ClusterCA: []byte("pem"), OIDCIssuer: "https://127.0.0.1:6443"}

func eksClient(s *Server) *eks.Client {
	cfg := s.Config()
	cfg.RetryMaxAttempts = 1
	return eks.NewFromConfig(cfg)
}

func TestEKSDescribeCluster(t *testing.T) {
	s := NewForTest(t, Options{World: eksTestWorld})
	c := eksClient(s)
	ctx := context.Background()

	out, err := c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("localcloud")})
	if err != nil {
		t.Fatalf("DescribeCluster: %v", err)
	}
	cl := out.Cluster
	ca, _ := base64.StdEncoding.DecodeString(aws.ToString(cl.CertificateAuthority.Data))
	checks := map[string][2]string{
		"name":     {aws.ToString(cl.Name), "localcloud"},
		"arn":      {aws.ToString(cl.Arn), "arn:aws:eks:us-east-1:" + AccountID + ":cluster/localcloud"},
		"status":   {string(cl.Status), "ACTIVE"},
		"version":  {aws.ToString(cl.Version), "1.37"},
		"endpoint": {aws.ToString(cl.Endpoint), "https://127.0.0.1:6443"},
		"ca":       {string(ca), "pem"},
		"issuer":   {aws.ToString(cl.Identity.Oidc.Issuer), "https://127.0.0.1:6443"},
		"authMode": {string(cl.AccessConfig.AuthenticationMode), "API_AND_CONFIG_MAP"},
		"svcCIDR":  {aws.ToString(cl.KubernetesNetworkConfig.ServiceIpv4Cidr), "10.96.0.0/16"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", what, c[0], c[1])
		}
	}
	if aws.ToString(cl.PlatformVersion) == "" {
		t.Error("platformVersion missing")
	}
	if cl.CreatedAt == nil || time.Since(*cl.CreatedAt) > time.Hour || time.Since(*cl.CreatedAt) < 0 {
		t.Errorf("createdAt = %v", cl.CreatedAt)
	}

	_, err = c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("other")})
	expectCode(t, err, "ResourceNotFoundException")

	list, err := c.ListClusters(ctx, &eks.ListClustersInput{})
	if err != nil || len(list.Clusters) != 1 || list.Clusters[0] != "localcloud" {
		t.Fatalf("ListClusters = %v %v", list, err)
	}

	// Tags on the cluster ARN.
	arn := aws.ToString(cl.Arn)
	if _, err := c.TagResource(ctx, &eks.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"a": "1", "b": "2"}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := c.UntagResource(ctx, &eks.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"b"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	tags, err := c.ListTagsForResource(ctx, &eks.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["a"] != "1" {
		t.Fatalf("ListTagsForResource = %v %v", tags, err)
	}
	_, err = c.ListTagsForResource(ctx, &eks.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:eks:us-east-1:" + AccountID + ":cluster/other")})
	expectCode(t, err, "NotFoundException")
}

func TestEKSAccessEntries(t *testing.T) {
	s := NewForTest(t, Options{World: eksTestWorld})
	c := eksClient(s)
	ctx := context.Background()
	ic := iamClient(t, s)
	nodeRole := aws.ToString(createRole(t, ic, "NodeRole").Arn)
	adminRole := aws.ToString(createRole(t, ic, "Admin").Arn)
	cluster := aws.String("localcloud")

	node, err := c.CreateAccessEntry(ctx, &eks.CreateAccessEntryInput{ClusterName: cluster, PrincipalArn: aws.String(nodeRole), Type: aws.String("EC2_LINUX")})
	if err != nil {
		t.Fatalf("CreateAccessEntry EC2_LINUX: %v", err)
	}
	if e := node.AccessEntry; aws.ToString(e.Type) != "EC2_LINUX" || aws.ToString(e.PrincipalArn) != nodeRole ||
		aws.ToString(e.Username) != "system:node:{{EC2PrivateDNSName}}" || aws.ToString(e.AccessEntryArn) == "" || e.CreatedAt == nil {
		t.Errorf("EC2_LINUX entry = %+v", e)
	}
	admin, err := c.CreateAccessEntry(ctx, &eks.CreateAccessEntryInput{ClusterName: cluster, PrincipalArn: aws.String(adminRole),
		KubernetesGroups: []string{"admins"}, Username: aws.String("admin"), Tags: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatalf("CreateAccessEntry STANDARD: %v", err)
	}
	if e := admin.AccessEntry; aws.ToString(e.Type) != "STANDARD" || len(e.KubernetesGroups) != 1 || e.Tags["k"] != "v" {
		t.Errorf("STANDARD entry = %+v", e)
	}

	for _, tc := range []struct {
		name string
		in   *eks.CreateAccessEntryInput
		code string
	}{
		{"duplicate", &eks.CreateAccessEntryInput{ClusterName: cluster, PrincipalArn: aws.String(nodeRole), Type: aws.String("EC2_LINUX")}, "ResourceInUseException"},
		{"unknown role", &eks.CreateAccessEntryInput{ClusterName: cluster, PrincipalArn: aws.String("arn:aws:iam::" + AccountID + ":role/Ghost")}, "InvalidParameterException"},
		{"groups on node entry", &eks.CreateAccessEntryInput{ClusterName: cluster, PrincipalArn: aws.String(aws.ToString(createRole(t, ic, "Third").Arn)), Type: aws.String("EC2_LINUX"), KubernetesGroups: []string{"system:nodes"}}, "InvalidParameterException"},
		{"bad type", &eks.CreateAccessEntryInput{ClusterName: cluster, PrincipalArn: aws.String(adminRole), Type: aws.String("SUPERUSER")}, "InvalidParameterException"},
		{"other cluster", &eks.CreateAccessEntryInput{ClusterName: aws.String("other"), PrincipalArn: aws.String(adminRole)}, "ResourceNotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateAccessEntry(ctx, tc.in)
			expectCode(t, err, tc.code)
		})
	}

	// The principal ARN contains a slash: it travels escaped in the path.
	got, err := c.DescribeAccessEntry(ctx, &eks.DescribeAccessEntryInput{ClusterName: cluster, PrincipalArn: aws.String(nodeRole)})
	if err != nil {
		t.Fatalf("DescribeAccessEntry: %v", err)
	}
	if aws.ToString(got.AccessEntry.AccessEntryArn) != aws.ToString(node.AccessEntry.AccessEntryArn) {
		t.Errorf("DescribeAccessEntry = %+v", got.AccessEntry)
	}
	_, err = c.DescribeAccessEntry(ctx, &eks.DescribeAccessEntryInput{ClusterName: cluster, PrincipalArn: aws.String("arn:aws:iam::" + AccountID + ":role/Third")})
	expectCode(t, err, "ResourceNotFoundException")

	list, err := c.ListAccessEntries(ctx, &eks.ListAccessEntriesInput{ClusterName: cluster})
	if err != nil || len(list.AccessEntries) != 2 || list.AccessEntries[0] != adminRole {
		t.Fatalf("ListAccessEntries = %v %v", list, err)
	}
	pager := eks.NewListAccessEntriesPaginator(c, &eks.ListAccessEntriesInput{ClusterName: cluster, MaxResults: aws.Int32(1)})
	n := 0
	for pager.HasMorePages() {
		pg, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAccessEntries page: %v", err)
		}
		n += len(pg.AccessEntries)
	}
	if n != 2 {
		t.Errorf("paged access entries = %d, want 2", n)
	}

	up, err := c.UpdateAccessEntry(ctx, &eks.UpdateAccessEntryInput{ClusterName: cluster, PrincipalArn: aws.String(adminRole), KubernetesGroups: []string{"a", "b"}})
	if err != nil {
		t.Fatalf("UpdateAccessEntry: %v", err)
	}
	if len(up.AccessEntry.KubernetesGroups) != 2 || aws.ToString(up.AccessEntry.Username) != "admin" {
		t.Errorf("updated entry = %+v", up.AccessEntry)
	}
	_, err = c.UpdateAccessEntry(ctx, &eks.UpdateAccessEntryInput{ClusterName: cluster, PrincipalArn: aws.String(nodeRole), KubernetesGroups: []string{"x"}})
	expectCode(t, err, "InvalidParameterException")

	if _, err := c.DeleteAccessEntry(ctx, &eks.DeleteAccessEntryInput{ClusterName: cluster, PrincipalArn: aws.String(nodeRole)}); err != nil {
		t.Fatalf("DeleteAccessEntry: %v", err)
	}
	_, err = c.DeleteAccessEntry(ctx, &eks.DeleteAccessEntryInput{ClusterName: cluster, PrincipalArn: aws.String(nodeRole)})
	expectCode(t, err, "ResourceNotFoundException")
}

func TestEKSPodIdentityAssociations(t *testing.T) {
	s := NewForTest(t, Options{World: eksTestWorld})
	c := eksClient(s)
	ctx := context.Background()
	role := aws.ToString(createRole(t, iamClient(t, s), "ControllerRole").Arn)
	cluster := aws.String("localcloud")

	out, err := c.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{ClusterName: cluster,
		Namespace: aws.String("kube-system"), ServiceAccount: aws.String("nodewright"), RoleArn: aws.String(role)})
	if err != nil {
		t.Fatalf("CreatePodIdentityAssociation: %v", err)
	}
	a := out.Association
	id := aws.ToString(a.AssociationId)
	if id == "" || aws.ToString(a.RoleArn) != role || aws.ToString(a.Namespace) != "kube-system" || aws.ToString(a.AssociationArn) == "" {
		t.Fatalf("association = %+v", a)
	}
	if _, err := c.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{ClusterName: cluster,
		Namespace: aws.String("default"), ServiceAccount: aws.String("app"), RoleArn: aws.String(role)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{ClusterName: cluster,
		Namespace: aws.String("kube-system"), ServiceAccount: aws.String("nodewright"), RoleArn: aws.String(role)})
	expectCode(t, err, "ResourceInUseException")
	_, err = c.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{ClusterName: cluster,
		Namespace: aws.String("x"), ServiceAccount: aws.String("y"), RoleArn: aws.String("arn:aws:iam::" + AccountID + ":role/Ghost")})
	expectCode(t, err, "InvalidParameterException")

	got, err := c.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: cluster, AssociationId: aws.String(id)})
	if err != nil || aws.ToString(got.Association.ServiceAccount) != "nodewright" {
		t.Fatalf("DescribePodIdentityAssociation = %v %v", got, err)
	}
	_, err = c.DescribePodIdentityAssociation(ctx, &eks.DescribePodIdentityAssociationInput{ClusterName: cluster, AssociationId: aws.String("a-missing")})
	expectCode(t, err, "ResourceNotFoundException")

	for _, tc := range []struct {
		in   *eks.ListPodIdentityAssociationsInput
		want int
	}{
		{&eks.ListPodIdentityAssociationsInput{ClusterName: cluster}, 2},
		{&eks.ListPodIdentityAssociationsInput{ClusterName: cluster, Namespace: aws.String("kube-system")}, 1},
		{&eks.ListPodIdentityAssociationsInput{ClusterName: cluster, ServiceAccount: aws.String("app")}, 1},
		{&eks.ListPodIdentityAssociationsInput{ClusterName: cluster, Namespace: aws.String("kube-system"), ServiceAccount: aws.String("app")}, 0},
	} {
		l, err := c.ListPodIdentityAssociations(ctx, tc.in)
		if err != nil {
			t.Fatalf("ListPodIdentityAssociations: %v", err)
		}
		if len(l.Associations) != tc.want {
			t.Errorf("ListPodIdentityAssociations(%s/%s) = %d, want %d", aws.ToString(tc.in.Namespace), aws.ToString(tc.in.ServiceAccount), len(l.Associations), tc.want)
		}
	}

	del, err := c.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{ClusterName: cluster, AssociationId: aws.String(id)})
	if err != nil || aws.ToString(del.Association.AssociationId) != id {
		t.Fatalf("DeletePodIdentityAssociation = %v %v", del, err)
	}
	_, err = c.DeletePodIdentityAssociation(ctx, &eks.DeletePodIdentityAssociationInput{ClusterName: cluster, AssociationId: aws.String(id)})
	expectCode(t, err, "ResourceNotFoundException")
}

// TestEKSPersistence checks that access entries survive a restart.
func TestEKSPersistence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	s, err := New(Options{StateFile: file, World: eksTestWorld})
	if err != nil {
		t.Fatal(err)
	}
	role := aws.ToString(createRole(t, iamClient(t, s), "NodeRole").Arn)
	if _, err := eksClient(s).CreateAccessEntry(context.Background(), &eks.CreateAccessEntryInput{ClusterName: aws.String("localcloud"),
		PrincipalArn: aws.String(role), Type: aws.String("EC2_LINUX")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := NewForTest(t, Options{StateFile: file, World: eksTestWorld})
	if _, err := eksClient(s2).DescribeAccessEntry(context.Background(), &eks.DescribeAccessEntryInput{ClusterName: aws.String("localcloud"), PrincipalArn: aws.String(role)}); err != nil {
		t.Fatalf("DescribeAccessEntry after restart: %v", err)
	}
}
