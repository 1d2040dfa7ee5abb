package v1_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/test/localcloud"
)

const costMessage = `costPerNodeHour must be a non-negative decimal number of US dollars per node per hour, such as "0.012"`

func TestCostPerNodeHourValidation(t *testing.T) {
	const f = "spec.costPerNodeHour"
	runCases(t, []validationCase{
		{name: "zero", base: validNodePool, edits: []string{f, `"0"`}},
		{name: "cents", base: validNodePool, edits: []string{f, `"0.012"`}},
		{name: "dollars", base: validNodePool, edits: []string{f, `"1.5"`}},
		{name: "32 characters", base: validNodePool, edits: []string{f, `"0.` + strings.Repeat("1", 30) + `"`}},
		{name: "negative", base: validNodePool, edits: []string{f, `"-1"`}, wantErr: costMessage},
		{name: "word", base: validNodePool, edits: []string{f, `"abc"`}, wantErr: costMessage},
		{name: "exponent", base: validNodePool, edits: []string{f, `"1e3"`}, wantErr: costMessage},
		{name: "currency sign", base: validNodePool, edits: []string{f, `"$0.01"`}, wantErr: costMessage},
		{name: "bare point", base: validNodePool, edits: []string{f, `".5"`}, wantErr: costMessage},
		{name: "33 characters", base: validNodePool, edits: []string{f, `"0.` + strings.Repeat("1", 31) + `"`}, wantErr: "may not be more than 32 bytes"},
		// YAML's unquoted 0.012 is a number: the field is a string.
		{name: "number", base: validNodePool, edits: []string{f, `0.012`}, wantErr: "must be of type string"},
	})
}

// The cost survives a round trip through the apiserver as the Go types
// write it, and changing it leaves the drift hash alone.
func TestCostPerNodeHourRoundTrip(t *testing.T) {
	np := &v1.NodePool{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.SchemeGroupVersion.String(), Kind: "NodePool"},
		ObjectMeta: metav1.ObjectMeta{Name: newName("cost")},
		Spec: v1.NodePoolSpec{
			Template: v1.NodeClaimTemplate{Spec: v1.NodeClaimTemplateSpec{
				NodeClassRef: &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"},
			}},
			CostPerNodeHour: "0.0125",
		},
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(np)
	if err != nil {
		t.Fatal(err)
	}
	var back v1.NodePool
	toTyped(t, create(t, &unstructured.Unstructured{Object: u}), &back)
	if back.Spec.CostPerNodeHour != "0.0125" || back.Spec.NodeOverheadPerHour() != 0.0125 {
		t.Errorf("costPerNodeHour = %q (%v $/h), want 0.0125", back.Spec.CostPerNodeHour, back.Spec.NodeOverheadPerHour())
	}
	unset := back.DeepCopy()
	unset.Spec.CostPerNodeHour = ""
	if back.Hash() != unset.Hash() {
		t.Errorf("costPerNodeHour changes the drift hash: %s with it, %s without", back.Hash(), unset.Hash())
	}
}

func TestParseCostPerHour(t *testing.T) {
	for in, want := range map[string]float64{"": 0, "0": 0, "0.012": 0.012, "1.5": 1.5, "007": 7, "12.000": 12} {
		if got, err := v1.ParseCostPerHour(in); err != nil || got != want {
			t.Errorf("ParseCostPerHour(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-1", "abc", "1e3", "Inf", "NaN", "+1", "1.", ".5", " 1", "0x1p-2", "1_000"} {
		got, err := v1.ParseCostPerHour(in)
		if err == nil {
			t.Errorf("ParseCostPerHour(%q) = %v, want an error", in, got)
			continue
		}
		if !strings.Contains(err.Error(), "non-negative decimal number of US dollars per hour") {
			t.Errorf("ParseCostPerHour(%q): error %q does not say what is expected", in, err)
		}
	}
	// What bypassed the CRD counts as no cost rather than a negative one.
	for _, in := range []string{"-1", "NaN"} {
		s := v1.NodePoolSpec{CostPerNodeHour: in}
		if got := s.NodeOverheadPerHour(); got != 0 {
			t.Errorf("NodeOverheadPerHour with %q = %v, want 0", in, got)
		}
	}
}

// TestCostPatternIsCRDPattern: the CRD's pattern and CEL rule for
// costPerNodeHour are CostPerHourPattern, which the controller and the
// Terraform provider check with.
func TestCostPatternIsCRDPattern(t *testing.T) {
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "controller", "crds", "nodewright.dev_nodepools.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd map[string]any
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	versions, _, _ := unstructured.NestedSlice(crd, "spec", "versions")
	if len(versions) != 1 {
		t.Fatalf("%d versions", len(versions))
	}
	field, _, err := unstructured.NestedMap(versions[0].(map[string]any), "schema", "openAPIV3Schema", "properties", "spec", "properties", "costPerNodeHour")
	if err != nil || field == nil {
		t.Fatalf("no costPerNodeHour in the CRD (%v): run make generate", err)
	}
	if field["pattern"] != v1.CostPerHourPattern {
		t.Errorf("CRD pattern %v is not v1.CostPerHourPattern %s: copy it into the marker and run make generate", field["pattern"], v1.CostPerHourPattern)
	}
	if n, ok := field["maxLength"].(float64); !ok || int(n) != v1.CostPerHourMaxLength {
		t.Errorf("CRD maxLength %v is not v1.CostPerHourMaxLength %d", field["maxLength"], v1.CostPerHourMaxLength)
	}
	rules, _ := field["x-kubernetes-validations"].([]any)
	if len(rules) != 1 || rules[0].(map[string]any)["rule"] != "self.matches('"+v1.CostPerHourPattern+"')" {
		t.Errorf("CRD CEL rules %v do not match v1.CostPerHourPattern", rules)
	}
}
