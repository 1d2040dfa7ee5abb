package awsemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	clocktesting "k8s.io/utils/clock/testing"
)

const al2023Param = "/aws/service/eks/optimized-ami/1.37/amazon-linux-2023/x86_64/standard/recommended/image_id"

func newSSMClient(t *testing.T, s *Server) *ssm.Client {
	cfg := s.Config()
	cfg.RetryMaxAttempts = 1
	return ssm.NewFromConfig(cfg)
}

func TestSSMPublicAMIParameters(t *testing.T) {
	s := NewForTest(t, Options{})
	client := newSSMClient(t, s)
	ctx := context.Background()

	var want map[string]string // parameter -> image id
	s.Do(func(w *World) {
		want = map[string]string{}
		for _, img := range w.EC2.Images {
			want[img.SSMParameter] = img.ID
		}
	})
	// The public paths as AWS documents them and Karpenter's AMI families
	// read them: each must name an image of its architecture and variant.
	var published []string
	for _, v := range []string{"1.35", "1.36", "1.37"} {
		for _, p := range []string{
			"/aws/service/eks/optimized-ami/%s/amazon-linux-2023/x86_64/standard/recommended/image_id",
			"/aws/service/eks/optimized-ami/%s/amazon-linux-2023/arm64/standard/recommended/image_id",
			"/aws/service/eks/optimized-ami/%s/amazon-linux-2023/x86_64/nvidia/recommended/image_id",
			"/aws/service/eks/optimized-ami/%s/amazon-linux-2023/arm64/nvidia/recommended/image_id",
			"/aws/service/eks/optimized-ami/%s/amazon-linux-2023/x86_64/neuron/recommended/image_id",
			"/aws/service/bottlerocket/aws-k8s-%s/x86_64/latest/image_id",
			"/aws/service/bottlerocket/aws-k8s-%s/arm64/latest/image_id",
			"/aws/service/bottlerocket/aws-k8s-%s-nvidia/x86_64/latest/image_id",
			"/aws/service/bottlerocket/aws-k8s-%s-nvidia/arm64/latest/image_id",
		} {
			published = append(published, fmt.Sprintf(p, v))
		}
	}
	var images map[string]Image
	s.Do(func(w *World) {
		images = map[string]Image{}
		for _, img := range w.EC2.Images {
			images[img.ID] = *img
		}
	})
	for _, name := range published {
		id, ok := want[name]
		if !ok {
			t.Errorf("no image is published at %s", name)
			continue
		}
		img := images[id]
		arch, variant := "x86_64", "standard"
		if strings.Contains(name, "/arm64/") {
			arch = "arm64"
		}
		for _, v := range []string{"nvidia", "neuron"} {
			if strings.Contains(name, v) {
				variant = v
			}
		}
		if img.Architecture != arch || img.Variant != variant || (variant != "standard" && !strings.Contains(img.Name, variant)) {
			t.Errorf("%s names %s (%s, %s, %s), want %s %s", name, id, img.Name, img.Architecture, img.Variant, arch, variant)
		}
	}
	if len(want) != len(published) {
		t.Errorf("%d parameters published, want the %d AWS documents", len(want), len(published))
	}
	for name, id := range want {
		out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		if err != nil {
			t.Fatalf("GetParameter %s: %v", name, err)
		}
		p := out.Parameter
		if aws.ToString(p.Value) != id || aws.ToString(p.Name) != name || p.Version != 1 || p.Type != ssmtypes.ParameterTypeString ||
			aws.ToString(p.DataType) != "aws:ec2:image" {
			t.Fatalf("GetParameter %s = %+v, want value %s", name, p, id)
		}
		if wantARN := "arn:aws:ssm:us-east-1::parameter" + name; aws.ToString(p.ARN) != wantARN {
			t.Fatalf("ARN = %s, want %s", aws.ToString(p.ARN), wantARN)
		}
		if p.LastModifiedDate == nil || !p.LastModifiedDate.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("LastModifiedDate = %v", p.LastModifiedDate)
		}
	}

	rv, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(strings.Replace(al2023Param, "image_id", "release_version", 1))})
	if err != nil {
		t.Fatalf("GetParameter release_version: %v", err)
	}
	if got := aws.ToString(rv.Parameter.Value); got != "1.37.0-20261101" {
		t.Fatalf("release_version = %q", got)
	}
}

func TestSSMGetParameterErrors(t *testing.T) {
	s := NewForTest(t, Options{})
	client := newSSMClient(t, s)
	ctx := context.Background()
	for _, tc := range []struct {
		name, code string
	}{
		{"/aws/service/eks/optimized-ami/9.99/amazon-linux-2023/x86_64/standard/recommended/image_id", "ParameterNotFound"},
		{"nope", "ParameterNotFound"},
		{al2023Param + ":7", "ParameterVersionNotFound"},
		{al2023Param + ":latest", "ParameterVersionNotFound"},
	} {
		_, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(tc.name)})
		expectCode(t, err, tc.code)
	}
}

func TestSSMGetParameters(t *testing.T) {
	s := NewForTest(t, Options{})
	client := newSSMClient(t, s)
	ctx := context.Background()
	bottlerocket := "/aws/service/bottlerocket/aws-k8s-1.36/arm64/latest/image_id"
	out, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{al2023Param, "/missing/one", bottlerocket, "missing-two"}})
	if err != nil {
		t.Fatalf("GetParameters: %v", err)
	}
	if len(out.Parameters) != 2 || aws.ToString(out.Parameters[0].Name) != al2023Param || aws.ToString(out.Parameters[1].Name) != bottlerocket {
		t.Fatalf("Parameters = %+v", out.Parameters)
	}
	if !strings.HasPrefix(aws.ToString(out.Parameters[1].Value), "ami-0b0771") {
		t.Fatalf("bottlerocket value = %s", aws.ToString(out.Parameters[1].Value))
	}
	if strings.Join(out.InvalidParameters, ",") != "/missing/one,missing-two" {
		t.Fatalf("InvalidParameters = %v", out.InvalidParameters)
	}

	_, err = client.GetParameters(ctx, &ssm.GetParametersInput{Names: make([]string, 11)})
	expectCode(t, err, "ValidationException")
}

func TestSSMPutParameterNewAMIRelease(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC))
	s := NewForTest(t, Options{Clock: clk})
	client := newSSMClient(t, s)
	ctx := context.Background()

	_, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(al2023Param), Value: aws.String("ami-0123456789abcdef0"), Type: ssmtypes.ParameterTypeString})
	expectCode(t, err, "ParameterAlreadyExists")

	put, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(al2023Param), Value: aws.String("ami-0123456789abcdef0"),
		Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image"), Overwrite: aws.Bool(true)})
	if err != nil {
		t.Fatalf("PutParameter overwrite: %v", err)
	}
	if put.Version != 2 || put.Tier != ssmtypes.ParameterTierStandard {
		t.Fatalf("PutParameter = version %d tier %s", put.Version, put.Tier)
	}
	got, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(al2023Param)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Parameter.Value) != "ami-0123456789abcdef0" || got.Parameter.Version != 2 || !got.Parameter.LastModifiedDate.Equal(clk.Now()) {
		t.Fatalf("after overwrite: %+v (%v)", got.Parameter, got.Parameter.LastModifiedDate)
	}
	// The old release stays addressable by version selector.
	old, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(al2023Param + ":1")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(old.Parameter.Value), "ami-0a1023") || old.Parameter.Version != 1 || aws.ToString(old.Parameter.Selector) != ":1" {
		t.Fatalf("version 1: %+v", old.Parameter)
	}
}

func TestSSMPutDeleteRoundTrip(t *testing.T) {
	s := NewForTest(t, Options{})
	client := newSSMClient(t, s)
	ctx := context.Background()

	put, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/nodewright/test/flag"), Value: aws.String("on"), Type: ssmtypes.ParameterTypeString})
	if err != nil || put.Version != 1 {
		t.Fatalf("PutParameter: %v %+v", err, put)
	}
	got, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/nodewright/test/flag")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Parameter.Value) != "on" || aws.ToString(got.Parameter.DataType) != "text" ||
		aws.ToString(got.Parameter.ARN) != "arn:aws:ssm:us-east-1:"+AccountID+":parameter/nodewright/test/flag" {
		t.Fatalf("GetParameter = %+v", got.Parameter)
	}
	if _, err := client.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/nodewright/test/flag")}); err != nil {
		t.Fatalf("DeleteParameter: %v", err)
	}
	_, err = client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/nodewright/test/flag")})
	expectCode(t, err, "ParameterNotFound")
	_, err = client.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/nodewright/test/flag")})
	expectCode(t, err, "ParameterNotFound")

	del, err := client.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{al2023Param, "/not/there"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(del.DeletedParameters, ",") != al2023Param || strings.Join(del.InvalidParameters, ",") != "/not/there" {
		t.Fatalf("DeleteParameters = %+v", del)
	}

	for _, tc := range []struct {
		in   ssm.PutParameterInput
		code string
	}{
		{ssm.PutParameterInput{Name: aws.String("/no/type"), Value: aws.String("v")}, "ValidationException"},
		{ssm.PutParameterInput{Name: aws.String("/bad/type"), Value: aws.String("v"), Type: "Number"}, "ValidationException"},
		{ssm.PutParameterInput{Name: aws.String("relative/name"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		{ssm.PutParameterInput{Name: aws.String("/bad name"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		{ssm.PutParameterInput{Name: aws.String("/img"), Value: aws.String("not-an-ami"), Type: "String", DataType: aws.String("aws:ec2:image")}, "ValidationException"},
		{ssm.PutParameterInput{Name: aws.String("/big"), Value: aws.String(strings.Repeat("x", 4097)), Type: "String"}, "ValidationException"},
		{ssm.PutParameterInput{Name: aws.String("/" + strings.Repeat("a/", 16) + "x"), Value: aws.String("v"), Type: "String"}, "HierarchyLevelLimitExceededException"},
	} {
		_, err := client.PutParameter(ctx, &tc.in)
		expectCode(t, err, tc.code)
	}
}

func TestSSMGetParametersByPath(t *testing.T) {
	s := NewForTest(t, Options{})
	client := newSSMClient(t, s)
	ctx := context.Background()

	// Recursive under one Kubernetes version: 5 images (standard and nvidia on
	// both architectures, neuron on x86_64) x (image_id, image_name, release_version).
	var names []string
	p := ssm.NewGetParametersByPathPaginator(client, &ssm.GetParametersByPathInput{
		Path: aws.String("/aws/service/eks/optimized-ami/1.36"), Recursive: aws.Bool(true), MaxResults: aws.Int32(4)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("GetParametersByPath: %v", err)
		}
		pages++
		for _, prm := range page.Parameters {
			names = append(names, aws.ToString(prm.Name))
		}
	}
	if pages != 4 || len(names) != 15 {
		t.Fatalf("got %d pages, names %v", pages, names)
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("names not sorted and unique: %v", names)
		}
	}

	// Not recursive: only direct children.
	out, err := client.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{
		Path: aws.String("/aws/service/eks/optimized-ami/1.36/amazon-linux-2023/arm64/standard/recommended")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Parameters) != 3 || out.NextToken != nil {
		t.Fatalf("non-recursive = %d params, token %v", len(out.Parameters), out.NextToken)
	}
	out, err = client.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/aws/service/eks")})
	if err != nil || len(out.Parameters) != 0 {
		t.Fatalf("non-recursive over a non-leaf path: %v %d", err, len(out.Parameters))
	}

	// Filtering by data type keeps image ids only.
	out, err = client.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/aws/service/eks/optimized-ami/1.35"), Recursive: aws.Bool(true),
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("DataType"), Values: []string{"aws:ec2:image"}}}})
	if err != nil || len(out.Parameters) != 5 {
		t.Fatalf("filtered: %v %d", err, len(out.Parameters))
	}

	_, err = client.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("relative")})
	expectCode(t, err, "ValidationException")
	_, err = client.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/a"), MaxResults: aws.Int32(11)})
	expectCode(t, err, "ValidationException")
	_, err = client.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/a"), NextToken: aws.String("garbage!")})
	expectCode(t, err, "InvalidNextToken")
	_, err = client.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/a"),
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Bogus"), Values: []string{"x"}}}})
	expectCode(t, err, "InvalidFilterKey")
}

func TestSSMAdminSetParameterPersists(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	s, err := New(Options{StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(SetParameterRequest{Name: al2023Param, Value: "ami-0fedcba9876543210"})
	resp, err := http.Post(s.URL+adminPrefix+"ssm/parameter", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(data), `"Version":2`) {
		t.Fatalf("admin set: %d %s", resp.StatusCode, data)
	}
	resp, err = http.Post(s.URL+adminPrefix+"ssm/parameter", "application/json", strings.NewReader(`{"name":"bad name","value":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("bad name: status %d", resp.StatusCode)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A restarted emulator still serves the published AMI.
	s2 := NewForTest(t, Options{StateFile: state})
	got, err := newSSMClient(t, s2).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(al2023Param)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Parameter.Value) != "ami-0fedcba9876543210" || got.Parameter.Version != 2 || aws.ToString(got.Parameter.DataType) != "aws:ec2:image" {
		t.Fatalf("after restart: %+v", got.Parameter)
	}
}
