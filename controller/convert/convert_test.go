package convert

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current conversion")

// set resolves every placeholder in the fixtures.
var set = map[string]string{"CLUSTER_NAME": "my-cluster", "PROJECT_NAME": "shop", "Namespace": "karpenter"}

// convertFile converts one fixture and renders what the CLI would print:
// the YAML, then the findings.
func convertFile(t *testing.T, path string, opts Options) (*Result, string) {
	t.Helper()
	res, _ := readAndConvert(t, path, opts)
	var b bytes.Buffer
	if err := WriteYAML(&b, res); err != nil {
		t.Fatal(err)
	}
	b.WriteString("# findings:\n")
	for _, f := range res.Findings {
		fmt.Fprintf(&b, "#   %s\n", f)
	}
	return res, b.String()
}

// readAndConvert converts one fixture, and returns its bytes too.
func readAndConvert(t *testing.T, path string, opts Options) (*Result, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Convert(data, opts)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return res, data
}

// TestGolden converts every fixture, with and without its placeholders
// set, and compares with testdata/golden.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/karpenter/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range files {
		for _, variant := range []struct {
			suffix string
			opts   Options
		}{{"", Options{Set: set}}, {".unset", Options{}}} {
			name := strings.TrimSuffix(filepath.Base(path), ".yaml") + variant.suffix
			t.Run(name, func(t *testing.T) {
				_, got := convertFile(t, path, variant.opts)
				golden := filepath.Join("testdata", "golden", name+".yaml")
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./controller/convert -update)", err)
				}
				if got != string(want) {
					t.Errorf("conversion of %s differs from %s:\n%s", path, golden, got)
				}
			})
		}
	}
}

// TestGoldenHCL is TestGolden for the Terraform output, placeholders set,
// in both styles: resources (NAME.tf) and node-pool module calls
// (NAME.module.tf). terraform-provider's TestAccConvertedKarpenterConfig
// applies the first, test/e2e's TestConvertedSpotProvisioner the second.
func TestGoldenHCL(t *testing.T) {
	files, _ := filepath.Glob("testdata/karpenter/*.yaml")
	styles := map[string]func(io.Writer, *Result) error{
		".tf":        WriteHCL,
		".module.tf": func(w io.Writer, res *Result) error { return WriteHCLModules(w, res, "../modules/node-pool") },
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		for suffix, write := range styles {
			t.Run(name+suffix, func(t *testing.T) {
				res, _ := readAndConvert(t, path, Options{Set: set})
				var b bytes.Buffer
				if err := write(&b, res); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", "golden", name+suffix)
				if *update {
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./controller/convert -update)", err)
				}
				if b.String() != string(want) {
					t.Errorf("HCL of %s differs from %s:\n%s", path, golden, b.String())
				}
			})
		}
	}
}

// TestOutputParses: the YAML, placeholders and all, reads back as the
// objects converted.
func TestOutputParses(t *testing.T) {
	for _, opts := range []Options{{}, {Set: set}} {
		res, out := convertFile(t, "testdata/karpenter/v1-al2023.yaml", opts)
		docs := strings.Split(out, "\n---\n")
		if len(docs) != len(res.NodePools)+len(res.NodeClasses) {
			t.Fatalf("%d documents for %d objects", len(docs), len(res.NodePools)+len(res.NodeClasses))
		}
		var nc v1.EC2NodeClass
		if err := yaml.UnmarshalStrict([]byte(strings.TrimPrefix(docs[0], "---\n")), &nc); err != nil {
			t.Fatalf("placeholders set=%v: the EC2NodeClass does not parse: %v", opts.Set != nil, err)
		}
		want := "{{ .Values.PROJECT_NAME }}-eks-worker-role"
		if opts.Set != nil {
			want = "shop-eks-worker-role"
		}
		if nc.Spec.Role != want {
			t.Errorf("role = %q, want %q", nc.Spec.Role, want)
		}
	}
}

// TestMapping pins the rules a user relies on, one source field at a time.
func TestMapping(t *testing.T) {
	pool := func(t *testing.T, src string) (*v1.NodePool, *Result) {
		t.Helper()
		res, err := Convert([]byte(src), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.NodePools) != 1 {
			t.Fatalf("want one NodePool, got %d (findings %v)", len(res.NodePools), res.Findings)
		}
		return res.NodePools[0], res
	}
	provisioner := func(spec string) string {
		return "apiVersion: karpenter.sh/v1alpha5\nkind: Provisioner\nmetadata: {name: p}\nspec:\n  providerRef: {name: c}\n" + spec
	}
	for _, tc := range []struct {
		name, src     string
		policy        v1.ConsolidationPolicy
		after, expire v1.NillableDuration
	}{
		{"ttlSecondsAfterEmpty is WhenEmpty after that long", provisioner("  ttlSecondsAfterEmpty: 30\n"), v1.ConsolidationPolicyWhenEmpty, "30s", v1.Never},
		{"consolidation.enabled is WhenEmptyOrUnderutilized", provisioner("  consolidation: {enabled: true}\n"), v1.ConsolidationPolicyWhenEmptyOrUnderutilized, "0s", v1.Never},
		{"neither keeps nodes", provisioner(""), v1.ConsolidationPolicyWhenEmpty, v1.Never, v1.Never},
		{"ttlSecondsUntilExpired is expireAfter", provisioner("  ttlSecondsUntilExpired: 2592000\n"), v1.ConsolidationPolicyWhenEmpty, v1.Never, "720h"},
		{"v1beta1 WhenUnderutilized is WhenEmptyOrUnderutilized after 0s",
			"apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata: {name: p}\nspec:\n  template: {spec: {nodeClassRef: {name: c}}}\n  disruption: {consolidationPolicy: WhenUnderutilized, expireAfter: 720h}\n",
			v1.ConsolidationPolicyWhenEmptyOrUnderutilized, "0s", "720h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			np, _ := pool(t, tc.src)
			d := np.Spec.Disruption
			if d.ConsolidationPolicy != tc.policy || d.ConsolidateAfter != tc.after || np.Spec.Template.Spec.ExpireAfter != tc.expire {
				t.Errorf("policy %q after %q expire %q, want %q %q %q", d.ConsolidationPolicy, d.ConsolidateAfter,
					np.Spec.Template.Spec.ExpireAfter, tc.policy, tc.after, tc.expire)
			}
		})
	}
	t.Run("Karpenter label keys become nodewright's", func(t *testing.T) {
		np, res := pool(t, provisioner("  requirements:\n  - {key: karpenter.sh/capacity-type, operator: In, values: [spot]}\n  - {key: karpenter.k8s.aws/instance-pods, operator: Gt, values: ['10']}\n"))
		reqs := np.Spec.Template.Spec.Requirements
		if len(reqs) != 1 || reqs[0].Key != v1.CapacityTypeLabelKey {
			t.Errorf("requirements %v, want only %s", reqs, v1.CapacityTypeLabelKey)
		}
		if !res.Lossy() {
			t.Error("a requirement left out must make the conversion lossy")
		}
	})
	t.Run("an inline provider becomes a node class of the Provisioner's name", func(t *testing.T) {
		res, err := Convert([]byte("apiVersion: karpenter.sh/v1alpha5\nkind: Provisioner\nmetadata: {name: p}\nspec:\n  provider: {subnetSelector: {aws-ids: 'subnet-1,subnet-2'}, securityGroupSelector: {Name: web}, instanceProfile: ip, amiFamily: Bottlerocket}\n"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.NodeClasses) != 1 || res.NodeClasses[0].Name != "p" || res.NodePools[0].Spec.Template.Spec.NodeClassRef.Name != "p" {
			t.Fatalf("classes %v", res.NodeClasses)
		}
		nc := res.NodeClasses[0]
		if len(nc.Spec.SubnetSelectorTerms) != 2 || nc.Spec.SubnetSelectorTerms[1].ID != "subnet-2" || nc.Spec.SecurityGroupSelectorTerms[0].Tags["Name"] != "web" {
			t.Errorf("selectors %+v %+v", nc.Spec.SubnetSelectorTerms, nc.Spec.SecurityGroupSelectorTerms)
		}
		if nc.Spec.AMISelectorTerms[0].Alias != "bottlerocket@latest" || res.Lossy() {
			t.Errorf("ami terms %+v, lossy %v: %v", nc.Spec.AMISelectorTerms, res.Lossy(), res.Findings)
		}
	})
	t.Run("--role fills a node class that names no role", func(t *testing.T) {
		src := "apiVersion: karpenter.k8s.aws/v1alpha1\nkind: AWSNodeTemplate\nmetadata: {name: c}\nspec: {subnetSelector: {k: v}, securityGroupSelector: {k: v}, amiFamily: AL2023}\n"
		res, _ := Convert([]byte(src), Options{})
		if !res.Lossy() {
			t.Error("a class without a role must be lossy")
		}
		res, _ = Convert([]byte(src), Options{Role: "NodeRole"})
		if res.Lossy() || res.NodeClasses[0].Spec.Role != "NodeRole" {
			t.Errorf("role %q, findings %v", res.NodeClasses[0].Spec.Role, res.Findings)
		}
	})
	t.Run("set resolves a placeholder, unset ones are lossy", func(t *testing.T) {
		src := "apiVersion: karpenter.k8s.aws/v1beta1\nkind: EC2NodeClass\nmetadata: {name: c}\nspec: {role: '${ROLE}', amiFamily: AL2023, subnetSelectorTerms: [{tags: {k: '{{ .Values.CLUSTER }}'}}]}\n"
		res, err := Convert([]byte(src), Options{Set: map[string]string{"ROLE": "r", "CLUSTER": "c1"}})
		if err != nil || res.Lossy() || res.NodeClasses[0].Spec.Role != "r" || res.NodeClasses[0].Spec.SubnetSelectorTerms[0].Tags["k"] != "c1" {
			t.Fatalf("err %v, findings %v", err, res.Findings)
		}
		res, _ = Convert([]byte(src), Options{})
		if !res.Lossy() {
			t.Error("unresolved placeholders must make the conversion lossy")
		}
	})
}
