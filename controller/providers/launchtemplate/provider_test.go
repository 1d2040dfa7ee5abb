package launchtemplate

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// fakeEC2 keeps launch templates by name and counts the calls made.
type fakeEC2 struct {
	templates map[string]map[string]string // name -> tags
	creates   int
	deletes   int
}

func (f *fakeEC2) CreateLaunchTemplate(_ context.Context, in *ec2.CreateLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateOutput, error) {
	f.creates++
	name := aws.ToString(in.LaunchTemplateName)
	if _, ok := f.templates[name]; ok {
		return nil, &smithy.GenericAPIError{Code: "InvalidLaunchTemplateName.AlreadyExistsException"}
	}
	tags := map[string]string{}
	for _, t := range in.TagSpecifications[0].Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	f.templates[name] = tags
	return &ec2.CreateLaunchTemplateOutput{}, nil
}

func (f *fakeEC2) DeleteLaunchTemplate(_ context.Context, in *ec2.DeleteLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateOutput, error) {
	f.deletes++
	delete(f.templates, aws.ToString(in.LaunchTemplateName))
	return &ec2.DeleteLaunchTemplateOutput{}, nil
}

// DescribeLaunchTemplates applies tag:<key> filters only, which is all
// Delete uses.
func (f *fakeEC2) DescribeLaunchTemplates(_ context.Context, in *ec2.DescribeLaunchTemplatesInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error) {
	out := &ec2.DescribeLaunchTemplatesOutput{}
	for name, tags := range f.templates {
		match := true
		for _, fl := range in.Filters {
			key, _ := strings.CutPrefix(aws.ToString(fl.Name), "tag:")
			match = match && tags[key] == fl.Values[0]
		}
		if match {
			out.LaunchTemplates = append(out.LaunchTemplates, ec2types.LaunchTemplate{LaunchTemplateName: aws.String(name)})
		}
	}
	return out, nil
}

func testNodeClass(name string) *v1.EC2NodeClass {
	return &v1.EC2NodeClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: v1.EC2NodeClassStatus{
		InstanceProfile: "profile", SecurityGroups: []v1.SecurityGroup{{ID: "sg-1"}}}}
}

// A template is created once per content and reused after; one deleted
// behind the provider's back is created again once invalidated.
func TestEnsureCreatesOncePerContent(t *testing.T) {
	ctx := context.Background()
	f := &fakeEC2{templates: map[string]map[string]string{}}
	p := NewDefaultProvider(Options{ClusterName: "test"}, f)
	a, err := p.Ensure(ctx, testNodeClass("default"), "ami-1", "ud")
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Ensure(ctx, testNodeClass("default"), "ami-1", "ud")
	if err != nil || again != a || f.creates != 1 {
		t.Fatalf("second Ensure = %q, %v after %d creates; want %q from one create", again, err, f.creates, a)
	}
	if !strings.HasPrefix(a, "nodewright/test/") {
		t.Errorf("template name %q", a)
	}
	b, err := p.Ensure(ctx, testNodeClass("default"), "ami-2", "ud")
	if err != nil || b == a || f.creates != 2 {
		t.Fatalf("another image: %q, %v after %d creates", b, err, f.creates)
	}
	if other, _ := p.Ensure(ctx, testNodeClass("other"), "ami-1", "ud"); other == a {
		t.Error("two node classes share a template")
	}
	// Someone else's copy of the same template is fine.
	fresh := NewDefaultProvider(Options{ClusterName: "test"}, f)
	if got, err := fresh.Ensure(ctx, testNodeClass("default"), "ami-1", "ud"); err != nil || got != a {
		t.Errorf("Ensure of an existing template = %q, %v", got, err)
	}
	creates := f.creates
	delete(f.templates, a)
	p.Invalidate(a)
	if _, err := p.Ensure(ctx, testNodeClass("default"), "ami-1", "ud"); err != nil || f.creates != creates+1 {
		t.Errorf("after Invalidate: %v, %d creates, want one more than %d", err, f.creates, creates)
	}
}

func TestDeleteByNodeClass(t *testing.T) {
	ctx := context.Background()
	f := &fakeEC2{templates: map[string]map[string]string{}}
	p := NewDefaultProvider(Options{ClusterName: "test"}, f)
	for _, nc := range []string{"a", "a", "b"} {
		if _, err := p.Ensure(ctx, testNodeClass(nc), "ami-"+nc+string(rune('0'+f.creates)), "ud"); err != nil {
			t.Fatal(err)
		}
	}
	// Not the provider's: no cluster tag, or not its name.
	f.templates["someone-elses"] = map[string]string{"kubernetes.io/cluster/test": "owned"}
	if n, err := p.Delete(ctx, "a"); err != nil || n != 2 {
		t.Fatalf("Delete(a) = %d, %v; want 2", n, err)
	}
	if n, err := p.Delete(ctx, ""); err != nil || n != 1 {
		t.Fatalf("Delete of the cluster's = %d, %v; want 1", n, err)
	}
	if _, ok := f.templates["someone-elses"]; !ok || len(f.templates) != 1 {
		t.Errorf("templates left %v, want only someone-elses", f.templates)
	}
}

// The template carries the node class's tags beside the cluster's, and a
// tag change makes a new template rather than leaving the old one's tags.
func TestEnsureTagsTheTemplate(t *testing.T) {
	ctx := context.Background()
	f := &fakeEC2{templates: map[string]map[string]string{}}
	p := NewDefaultProvider(Options{ClusterName: "test"}, f)
	nc := testNodeClass("default")
	nc.Spec.Tags = map[string]string{"team": "payments", "cost-center": "42"}
	name, err := p.Ensure(ctx, nc, "ami-1", "ud")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"team": "payments", "cost-center": "42", "kubernetes.io/cluster/test": "owned",
		v1.EKSClusterNameTagKey: "test", v1.EC2NodeClassTagKey: "default"}
	if got := f.templates[name]; !maps.Equal(got, want) {
		t.Errorf("template tags = %v, want %v", got, want)
	}
	nc.Spec.Tags["team"] = "billing"
	renamed, err := p.Ensure(ctx, nc, "ami-1", "ud")
	if err != nil {
		t.Fatal(err)
	}
	if renamed == name || f.templates[renamed]["team"] != "billing" {
		t.Errorf("after a tag change: template %q with team=%q, want a new template tagged billing", renamed, f.templates[renamed]["team"])
	}
}
