package convert

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/providers/instancetype"
)

// TestRoundTripAdmitsTheSameOfferings: over the embedded catalog, each
// instance type and capacity type labelled as Karpenter labels them
// (v1.KarpenterLabels) is admitted by a Karpenter v1 NodePool's
// requirements exactly when nodewright's labels of it are admitted by the
// converted pool's.
func TestRoundTripAdmitsTheSameOfferings(t *testing.T) {
	types, err := catalog.InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"testdata/karpenter/v1-al2023.yaml", "testdata/karpenter/every-field-v1.yaml", "testdata/karpenter/every-field-v1beta1.yaml"} {
		t.Run(path, func(t *testing.T) {
			res, data := readAndConvert(t, path, Options{Set: set})
			original := karpenterRequirements(t, data)
			converted := res.NodePools[0].Spec.Template.Spec.Requirements
			karpenterSel := selector(t, original)
			oursSel := selector(t, converted)
			admitted := 0
			for _, it := range types {
				for _, ct := range []string{v1.CapacityTypeSpot, v1.CapacityTypeOnDemand} {
					ours := instancetype.Labels(it, "us-east-1")
					ours[v1.CapacityTypeLabelKey] = ct
					theirs := v1.KarpenterLabels(ours)
					for _, k := range []string{corev1.LabelInstanceTypeStable, corev1.LabelArchStable, corev1.LabelOSStable, corev1.LabelTopologyRegion} {
						theirs[k] = ours[k]
					}
					a := karpenterSel.Match(&corev1.Node{ObjectMeta: objectMeta(theirs)})
					b := oursSel.Match(&corev1.Node{ObjectMeta: objectMeta(ours)})
					if a != b {
						t.Errorf("%s %s: Karpenter's pool admits it %v, the converted one %v", it.Name, ct, a, b)
					}
					if b {
						admitted++
					}
				}
			}
			if admitted == 0 {
				t.Error("neither pool admits any offering: the test compares nothing")
			}
			t.Logf("%d offerings admitted by both", admitted)
		})
	}
}

func karpenterRequirements(t *testing.T, data []byte) []v1.NodeSelectorRequirementWithMinValues {
	t.Helper()
	text, _ := resolvePlaceholders(string(data), set)
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	for {
		var raw map[string]any
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("no NodePool: %v", err)
		}
		u := &unstructured.Unstructured{Object: raw}
		if u.GetKind() != "NodePool" {
			continue
		}
		var reqs []v1.NodeSelectorRequirementWithMinValues
		c := &converter{res: &Result{}}
		c.fields("", raw, "").sub("spec").sub("template").sub("spec").take("requirements", &reqs)
		return reqs
	}
}

func selector(t *testing.T, reqs []v1.NodeSelectorRequirementWithMinValues) *nodeaffinity.NodeSelector {
	t.Helper()
	term := corev1.NodeSelectorTerm{}
	for _, r := range reqs {
		term.MatchExpressions = append(term.MatchExpressions, corev1.NodeSelectorRequirement{Key: r.Key, Operator: r.Operator, Values: r.Values})
	}
	s, err := nodeaffinity.NewNodeSelector(&corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{term}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func objectMeta(labels map[string]string) metav1.ObjectMeta { return metav1.ObjectMeta{Labels: labels} }
