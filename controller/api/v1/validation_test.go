package v1_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/nodewright/nodewright/controller/crds"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/test/localcloud"
)

var (
	nodePoolGVR     = v1.SchemeGroupVersion.WithResource("nodepools")
	nodeClaimGVR    = v1.SchemeGroupVersion.WithResource("nodeclaims")
	ec2NodeClassGVR = v1.SchemeGroupVersion.WithResource("ec2nodeclasses")
)

var (
	installOnce sync.Once
	installErr  error
	dyn         dynamic.Interface
)

// client installs the CRDs (once per test binary) and returns a dynamic client.
func client(t *testing.T) dynamic.Interface {
	t.Helper()
	if cloud == nil {
		t.Skip("no local cloud (-short, or binaries missing: set NODEWRIGHT_BIN_DIR)")
	}
	installOnce.Do(func() { installErr = installCRDs() })
	if installErr != nil {
		t.Fatalf("installing CRDs: %v", installErr)
	}
	return dyn
}

func installCRDs() error {
	var err error
	dyn, err = dynamic.NewForConfig(cloud.RESTConfig)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return crds.Install(ctx, cloud.RESTConfig)
}

const validNodePool = `
apiVersion: nodewright.dev/v1
kind: NodePool
spec:
  template:
    metadata:
      labels: {team: payments}
    spec:
      nodeClassRef: {group: nodewright.dev, kind: EC2NodeClass, name: default}
      requirements:
      - {key: nodewright.dev/capacity-type, operator: In, values: [spot, on-demand]}
      - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.large, m5.xlarge, c5.large], minValues: 2}
      - {key: nodewright.dev/instance-cpu, operator: Gt, values: ["3"]}
      - {key: topology.kubernetes.io/zone, operator: Exists}
`

const validNodeClaim = `
apiVersion: nodewright.dev/v1
kind: NodeClaim
spec:
  nodeClassRef: {group: nodewright.dev, kind: EC2NodeClass, name: default}
  requirements:
  - {key: nodewright.dev/nodepool, operator: In, values: [default]}
  - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.large]}
  resources:
    requests: {cpu: 1500m, memory: 2Gi, pods: "3"}
`

const validEC2NodeClass = `
apiVersion: nodewright.dev/v1
kind: EC2NodeClass
spec:
  role: KarpenterNodeRole
  amiSelectorTerms: [{alias: al2023@latest}]
  subnetSelectorTerms: [{tags: {nodewright.dev/discovery: localcloud}}]
  securityGroupSelectorTerms: [{tags: {nodewright.dev/discovery: localcloud}}]
`

var seq struct {
	sync.Mutex
	n int
}

func newName(prefix string) string {
	seq.Lock()
	defer seq.Unlock()
	seq.n++
	return fmt.Sprintf("%s-%d", strings.ToLower(prefix), seq.n)
}

// object parses a base manifest and applies edits: each is a dotted path
// ("spec.template.spec.requirements") and a YAML value, or "-" to delete.
func object(t *testing.T, base string, edits ...string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(base), &u.Object); err != nil {
		t.Fatalf("parsing manifest: %v", err)
	}
	u.SetName(newName(u.GetKind()))
	if len(edits)%2 != 0 {
		t.Fatalf("edits come in path, value pairs: %q", edits)
	}
	for i := 0; i < len(edits); i += 2 {
		path := strings.Split(edits[i], ".")
		if edits[i+1] == "-" {
			unstructured.RemoveNestedField(u.Object, path...)
			continue
		}
		var v any
		if err := yaml.Unmarshal([]byte(edits[i+1]), &v); err != nil {
			t.Fatalf("parsing %s value: %v", edits[i], err)
		}
		if err := unstructured.SetNestedField(u.Object, v, path...); err != nil {
			t.Fatalf("setting %s: %v", edits[i], err)
		}
	}
	return u
}

func gvrOf(u *unstructured.Unstructured) schema.GroupVersionResource {
	switch u.GetKind() {
	case "NodePool":
		return nodePoolGVR
	case "NodeClaim":
		return nodeClaimGVR
	default:
		return ec2NodeClassGVR
	}
}

type validationCase struct {
	name    string
	base    string
	edits   []string
	wantErr string // empty: accepted
}

func runCases(t *testing.T, cases []validationCase) {
	c := client(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := object(t, tc.base, tc.edits...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := c.Resource(gvrOf(u)).Create(ctx, u, metav1.CreateOptions{})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("rejected a valid object: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("accepted, want rejection with %q", tc.wantErr)
			case tc.wantErr != "" && !apierrors.IsInvalid(err):
				t.Fatalf("error %v is not Invalid", err)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q\ndoes not contain %q", err, tc.wantErr)
			}
		})
	}
}

func create(t *testing.T, u *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	out, err := client(t).Resource(gvrOf(u)).Create(context.Background(), u, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating %s %s: %v", u.GetKind(), u.GetName(), err)
	}
	return out
}

func toTyped(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatalf("converting %s: %v", u.GetKind(), err)
	}
}

func TestNodePoolDefaults(t *testing.T) {
	var np v1.NodePool
	toTyped(t, create(t, object(t, validNodePool)), &np)
	d := np.Spec.Disruption
	if got := np.Spec.Template.Spec.ExpireAfter; got != "720h" {
		t.Errorf("expireAfter = %q, want 720h", got)
	}
	if d.ConsolidationPolicy != v1.ConsolidationPolicyWhenEmptyOrUnderutilized {
		t.Errorf("consolidationPolicy = %q", d.ConsolidationPolicy)
	}
	if d.ConsolidateAfter != "0s" {
		t.Errorf("consolidateAfter = %q, want 0s", d.ConsolidateAfter)
	}
	if len(d.Budgets) != 1 || d.Budgets[0].Nodes != "10%" || d.Budgets[0].Schedule != nil {
		t.Errorf("budgets = %+v, want [{nodes: 10%%}]", d.Budgets)
	}
	if n := np.Spec.Template.Spec.Requirements[1].MinValues; n == nil || *n != 2 {
		t.Errorf("minValues lost: %v", n)
	}

	// A budget without nodes gets the default too, and explicit values stay.
	var np2 v1.NodePool
	toTyped(t, create(t, object(t, validNodePool,
		"spec.disruption", `{consolidationPolicy: WhenEmpty, budgets: [{reasons: [Drifted]}, {nodes: "0", schedule: "@daily", duration: 10m}]}`,
		"spec.template.spec.expireAfter", "Never")), &np2)
	b := np2.Spec.Disruption.Budgets
	if len(b) != 2 || b[0].Nodes != "10%" || b[1].Nodes != "0" || np2.Spec.Disruption.ConsolidationPolicy != v1.ConsolidationPolicyWhenEmpty {
		t.Errorf("disruption = %+v", np2.Spec.Disruption)
	}
	if _, ok := np2.Spec.Template.Spec.ExpireAfter.Duration(); ok {
		t.Errorf("expireAfter %q should be Never", np2.Spec.Template.Spec.ExpireAfter)
	}
}

func TestNodeClaimDefaultsAndImmutability(t *testing.T) {
	c := client(t)
	out := create(t, object(t, validNodeClaim))
	var nc v1.NodeClaim
	toTyped(t, out, &nc)
	if nc.Spec.ExpireAfter != "720h" {
		t.Errorf("expireAfter = %q, want 720h", nc.Spec.ExpireAfter)
	}
	if q := nc.Spec.Resources.Requests[corev1.ResourceCPU]; q.MilliValue() != 1500 {
		t.Errorf("cpu request = %s", q.String())
	}

	ctx := context.Background()
	changed := out.DeepCopy()
	if err := unstructured.SetNestedField(changed.Object, "1h", "spec", "expireAfter"); err != nil {
		t.Fatal(err)
	}
	_, err := c.Resource(nodeClaimGVR).Update(ctx, changed, metav1.UpdateOptions{})
	if err == nil || !strings.Contains(err.Error(), "spec is immutable") {
		t.Fatalf("updating spec: err = %v, want 'spec is immutable'", err)
	}

	// Metadata and status still change.
	labelled := out.DeepCopy()
	labelled.SetLabels(map[string]string{v1.NodePoolLabelKey: "default"})
	out, err = c.Resource(nodeClaimGVR).Update(ctx, labelled, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("updating labels: %v", err)
	}
	toTyped(t, out, &nc)
	nc.Status.ProviderID = "aws:///us-east-1a/i-0123456789abcdef0"
	nc.SetCondition(v1.ConditionTypeLaunched, metav1.ConditionTrue, "", "")
	st, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&nc)
	if err != nil {
		t.Fatal(err)
	}
	out, err = c.Resource(nodeClaimGVR).UpdateStatus(ctx, &unstructured.Unstructured{Object: st}, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("updating status: %v", err)
	}
	toTyped(t, out, &nc)
	if !nc.IsTrue(v1.ConditionTypeLaunched) || nc.Status.ProviderID == "" {
		t.Errorf("status not stored: %+v", nc.Status)
	}
}

func TestEC2NodeClassDefaults(t *testing.T) {
	var nc v1.EC2NodeClass
	toTyped(t, create(t, object(t, validEC2NodeClass)), &nc)
	m := nc.Spec.MetadataOptions
	if m == nil || m.HTTPTokens == nil || *m.HTTPTokens != "required" || m.HTTPPutResponseHopLimit == nil || *m.HTTPPutResponseHopLimit != 1 ||
		m.HTTPEndpoint == nil || *m.HTTPEndpoint != "enabled" || m.HTTPProtocolIPv6 == nil || *m.HTTPProtocolIPv6 != "disabled" {
		t.Errorf("metadataOptions = %+v, want IMDSv2 required, hop limit 1", m)
	}
	// A partial metadataOptions keeps the other defaults.
	toTyped(t, create(t, object(t, validEC2NodeClass, "spec.metadataOptions", `{httpPutResponseHopLimit: 2}`)), &nc)
	if m := nc.Spec.MetadataOptions; *m.HTTPPutResponseHopLimit != 2 || m.HTTPTokens == nil || *m.HTTPTokens != "required" {
		t.Errorf("metadataOptions = %+v, want hop limit 2 and httpTokens required", m)
	}
}

// TestTypedObjectsAreAccepted checks that what the Go types marshal to
// (metav1.Duration as "1h0m0s", quantities, pointers) passes validation.
func TestTypedObjectsAreAccepted(t *testing.T) {
	two, weight := 2, int32(10)
	schedule := "0 9 * * mon-fri"
	np := &v1.NodePool{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.SchemeGroupVersion.String(), Kind: "NodePool"},
		ObjectMeta: metav1.ObjectMeta{Name: newName("typed")},
		Spec: v1.NodePoolSpec{
			Template: v1.NodeClaimTemplate{
				ObjectMeta: v1.NodeClaimTemplateObjectMeta{Labels: map[string]string{"example.com/team": "a"}},
				Spec: v1.NodeClaimTemplateSpec{
					Requirements: []v1.NodeSelectorRequirementWithMinValues{
						{Key: v1.InstanceFamilyLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{"m5", "c5"}, MinValues: &two},
					},
					StartupTaints:          []corev1.Taint{{Key: "example.com/cni", Effect: corev1.TaintEffectNoSchedule}},
					NodeClassRef:           &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"},
					ExpireAfter:            "24h",
					TerminationGracePeriod: &metav1.Duration{Duration: 90 * time.Minute},
				},
			},
			Disruption: v1.Disruption{
				ConsolidateAfter: "30s",
				Budgets: []v1.Budget{{Nodes: "1", Schedule: &schedule, Duration: &metav1.Duration{Duration: 8 * time.Hour},
					Reasons: []v1.DisruptionReason{v1.DisruptionReasonUnderutilized}}},
			},
			Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1000"), "nodes": resource.MustParse("50")},
			Weight: &weight,
		},
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(np)
	if err != nil {
		t.Fatal(err)
	}
	var back v1.NodePool
	toTyped(t, create(t, &unstructured.Unstructured{Object: u}), &back)
	if back.Hash() != np.Hash() {
		t.Errorf("hash changed by a round trip: %s, then %s", np.Hash(), back.Hash())
	}
	if back.Spec.Template.Spec.TerminationGracePeriod.Duration != 90*time.Minute {
		t.Errorf("terminationGracePeriod = %v", back.Spec.Template.Spec.TerminationGracePeriod)
	}
}

// TestWellKnownAndRestrictedLabels ties the CEL lists to labels.go.
func TestWellKnownAndRestrictedLabels(t *testing.T) {
	var cases []validationCase
	for _, key := range sortedKeys(v1.WellKnownLabels.Difference(v1.RestrictedLabels).UnsortedList()) {
		cases = append(cases,
			validationCase{name: "requirement " + key, base: validNodePool,
				edits: []string{"spec.template.spec.requirements", fmt.Sprintf(`[{key: %q, operator: Exists}]`, key)}},
			validationCase{name: "label " + key, base: validNodePool,
				edits: []string{"spec.template.metadata.labels", fmt.Sprintf(`{%q: "x"}`, key)}})
	}
	for _, key := range sortedKeys(v1.RestrictedLabels.UnsortedList()) {
		cases = append(cases,
			validationCase{name: "requirement " + key, base: validNodePool,
				edits:   []string{"spec.template.spec.requirements", fmt.Sprintf(`[{key: %q, operator: Exists}]`, key)},
				wantErr: "are restricted: nodewright or the kubelet sets them"},
			validationCase{name: "label " + key, base: validNodePool,
				edits:   []string{"spec.template.metadata.labels", fmt.Sprintf(`{%q: "x"}`, key)},
				wantErr: "are restricted: nodewright or the kubelet sets them"})
	}
	runCases(t, cases)
}

func sortedKeys(s []string) []string { sort.Strings(s); return s }

func TestNodePoolValidation(t *testing.T) {
	const reqs = "spec.template.spec.requirements"
	runCases(t, []validationCase{
		{name: "valid", base: validNodePool},
		{name: "NotIn and DoesNotExist", base: validNodePool, edits: []string{reqs,
			`[{key: example.com/x, operator: NotIn, values: [a]}, {key: example.com/y, operator: DoesNotExist}, {key: nodewright.dev/instance-memory, operator: Lt, values: ["-1"]}]`}},
		{name: "minValues with Exists", base: validNodePool, edits: []string{reqs, `[{key: node.kubernetes.io/instance-type, operator: Exists, minValues: 10}]`}},
		{name: "In without values", base: validNodePool, edits: []string{reqs, `[{key: example.com/x, operator: In}]`},
			wantErr: "operators In and NotIn need at least one value"},
		{name: "NotIn with empty values", base: validNodePool, edits: []string{reqs, `[{key: example.com/x, operator: NotIn, values: []}]`},
			wantErr: "operators In and NotIn need at least one value"},
		{name: "Exists with values", base: validNodePool, edits: []string{reqs, `[{key: example.com/x, operator: Exists, values: [a]}]`},
			wantErr: "operators Exists and DoesNotExist take no values"},
		{name: "Gt with two values", base: validNodePool, edits: []string{reqs, `[{key: nodewright.dev/instance-cpu, operator: Gt, values: ["1", "2"]}]`},
			wantErr: "operators Gt and Lt take exactly one integer value"},
		{name: "Lt with a word", base: validNodePool, edits: []string{reqs, `[{key: nodewright.dev/instance-cpu, operator: Lt, values: [four]}]`},
			wantErr: "operators Gt and Lt take exactly one integer value"},
		{name: "unknown operator", base: validNodePool, edits: []string{reqs, `[{key: example.com/x, operator: Near, values: [a]}]`},
			wantErr: `supported values: "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"`},
		{name: "minValues over values", base: validNodePool, edits: []string{reqs, `[{key: node.kubernetes.io/instance-type, operator: In, values: [a, b], minValues: 3}]`},
			wantErr: "minValues must not exceed the number of values of an In requirement"},
		{name: "minValues over 50", base: validNodePool, edits: []string{reqs, `[{key: node.kubernetes.io/instance-type, operator: Exists, minValues: 51}]`},
			wantErr: "should be less than or equal to 50"},
		{name: "unknown nodewright.dev requirement", base: validNodePool, edits: []string{reqs, `[{key: nodewright.dev/colour, operator: Exists}]`},
			wantErr: "the nodewright.dev label domain is reserved"},
		{name: "nodewright.dev subdomain requirement", base: validNodePool, edits: []string{reqs, `[{key: x.nodewright.dev/colour, operator: Exists}]`},
			wantErr: "the nodewright.dev label domain is reserved"},
		{name: "similar domain is fine", base: validNodePool, edits: []string{reqs, `[{key: notnodewright.dev/colour, operator: Exists}]`}},
		{name: "unknown nodewright.dev label", base: validNodePool, edits: []string{"spec.template.metadata.labels", `{nodewright.dev/colour: red}`},
			wantErr: "the nodewright.dev label domain is reserved"},
		{name: "bad label key", base: validNodePool, edits: []string{"spec.template.metadata.labels", `{"a b": c}`},
			wantErr: "label keys must be qualified names"},
		{name: "long label value", base: validNodePool, edits: []string{"spec.template.metadata.labels", `{team: "` + strings.Repeat("a", 64) + `"}`},
			wantErr: "label values must be at most 63 characters"},
		{name: "no nodeClassRef", base: validNodePool, edits: []string{"spec.template.spec.nodeClassRef", "-"},
			wantErr: "spec.template.spec.nodeClassRef: Required value"},
		{name: "empty nodeClassRef name", base: validNodePool, edits: []string{"spec.template.spec.nodeClassRef.name", `""`},
			wantErr: "spec.template.spec.nodeClassRef.name: Invalid value"},
		{name: "expireAfter in days", base: validNodePool, edits: []string{"spec.template.spec.expireAfter", "30d"},
			wantErr: "spec.template.spec.expireAfter: Invalid value"},
		{name: "terminationGracePeriod Never", base: validNodePool, edits: []string{"spec.template.spec.terminationGracePeriod", "Never"},
			wantErr: "spec.template.spec.terminationGracePeriod: Invalid value"},
		{name: "unknown consolidationPolicy", base: validNodePool, edits: []string{"spec.disruption.consolidationPolicy", "Always"},
			wantErr: `supported values: "WhenEmpty", "WhenEmptyOrUnderutilized"`},
		{name: "consolidateAfter Never", base: validNodePool, edits: []string{"spec.disruption.consolidateAfter", "Never"}},
		{name: "budget schedule without duration", base: validNodePool, edits: []string{"spec.disruption.budgets", `[{nodes: "0", schedule: "@daily"}]`},
			wantErr: "a budget schedule needs a duration, and a duration needs a schedule"},
		{name: "budget duration without schedule", base: validNodePool, edits: []string{"spec.disruption.budgets", `[{nodes: "0", duration: 1h}]`},
			wantErr: "a budget schedule needs a duration, and a duration needs a schedule"},
		{name: "budget cron schedule", base: validNodePool, edits: []string{"spec.disruption.budgets", `[{nodes: "0", schedule: "0 22 * * sun", duration: 2h30m}]`}},
		{name: "budget bad schedule", base: validNodePool, edits: []string{"spec.disruption.budgets", `[{nodes: "0", schedule: "tomorrow", duration: 1h}]`},
			wantErr: "spec.disruption.budgets[0].schedule: Invalid value"},
		{name: "budget nodes over 100%", base: validNodePool, edits: []string{"spec.disruption.budgets", `[{nodes: "150%"}]`},
			wantErr: "spec.disruption.budgets[0].nodes: Invalid value"},
		{name: "budget unknown reason", base: validNodePool, edits: []string{"spec.disruption.budgets", `[{nodes: "1", reasons: [Expired]}]`},
			wantErr: `supported values: "Empty", "Underutilized", "Drifted"`},
		{name: "too many budgets", base: validNodePool, edits: []string{"spec.disruption.budgets", "[" + strings.Repeat(`{nodes: "1"},`, 51) + "]"},
			wantErr: "must have at most 50 items"},
		{name: "weight 0", base: validNodePool, edits: []string{"spec.weight", "0"},
			wantErr: "should be greater than or equal to 1"},
		{name: "weight 101", base: validNodePool, edits: []string{"spec.weight", "101"},
			wantErr: "should be less than or equal to 100"},
		{name: "limits", base: validNodePool, edits: []string{"spec.limits", `{cpu: "100", memory: 400Gi, nodes: "10", nvidia.com/gpu: "4"}`}},
		{name: "taints", base: validNodePool, edits: []string{"spec.template.spec.taints", `[{key: dedicated, value: gpu, effect: NoSchedule}]`}},
	})
}

func TestNodeClaimValidation(t *testing.T) {
	runCases(t, []validationCase{
		{name: "valid", base: validNodeClaim},
		{name: "In without values", base: validNodeClaim, edits: []string{"spec.requirements", `[{key: example.com/x, operator: In}]`},
			wantErr: "operators In and NotIn need at least one value"},
		{name: "no nodeClassRef", base: validNodeClaim, edits: []string{"spec.nodeClassRef", "-"},
			wantErr: "spec.nodeClassRef: Required value"},
		{name: "bad expireAfter", base: validNodeClaim, edits: []string{"spec.expireAfter", "forever"},
			wantErr: "spec.expireAfter: Invalid value"},
	})
}

func TestEC2NodeClassValidation(t *testing.T) {
	const ami = "spec.amiSelectorTerms"
	const kubelet = "spec.kubelet"
	runCases(t, []validationCase{
		{name: "valid", base: validEC2NodeClass},
		{name: "instance profile", base: validEC2NodeClass, edits: []string{"spec.role", "-", "spec.instanceProfile", "NodeProfile"}},
		{name: "role and instance profile", base: validEC2NodeClass, edits: []string{"spec.instanceProfile", "NodeProfile"},
			wantErr: "specify exactly one of role or instanceProfile"},
		{name: "neither role nor instance profile", base: validEC2NodeClass, edits: []string{"spec.role", "-"},
			wantErr: "specify exactly one of role or instanceProfile"},
		{name: "pinned alias", base: validEC2NodeClass, edits: []string{ami, `[{alias: al2023@v20261101}]`}},
		{name: "bottlerocket alias with family", base: validEC2NodeClass, edits: []string{ami, `[{alias: bottlerocket@latest}]`, "spec.amiFamily", "Bottlerocket"}},
		{name: "bad alias", base: validEC2NodeClass, edits: []string{ami, `[{alias: ubuntu@latest}]`},
			wantErr: "spec.amiSelectorTerms[0].alias: Invalid value"},
		{name: "alias with other term", base: validEC2NodeClass, edits: []string{ami, `[{alias: al2023@latest}, {id: ami-0123456789}]`, "spec.amiFamily", "AL2023"},
			wantErr: "an alias AMI selector term can't be combined with other terms"},
		{name: "alias with id in one term", base: validEC2NodeClass, edits: []string{ami, `[{alias: al2023@latest, id: ami-0123456789}]`},
			wantErr: "an AMI selector term with an alias can't have other fields"},
		{name: "alias family mismatch", base: validEC2NodeClass, edits: []string{"spec.amiFamily", "Bottlerocket"},
			wantErr: "amiFamily must match the family of the alias in amiSelectorTerms"},
		{name: "alias with Custom family", base: validEC2NodeClass, edits: []string{"spec.amiFamily", "Custom"},
			wantErr: "amiFamily must match the family of the alias in amiSelectorTerms"},
		{name: "ids without family", base: validEC2NodeClass, edits: []string{ami, `[{id: ami-0123456789}, {id: ami-abcdef}]`},
			wantErr: "amiFamily is required unless amiSelectorTerms uses an alias"},
		{name: "terms with family", base: validEC2NodeClass, edits: []string{ami,
			`[{id: ami-0123456789}, {name: "my-ami-*", owner: self}, {tags: {team: a}}, {ssmParameter: /my/ami}]`, "spec.amiFamily", "Custom"}},
		{name: "id with name", base: validEC2NodeClass, edits: []string{ami, `[{id: ami-0123456789, name: x}]`, "spec.amiFamily", "AL2023"},
			wantErr: "an AMI selector term with an id can't have other fields"},
		{name: "owner only", base: validEC2NodeClass, edits: []string{ami, `[{owner: amazon}]`, "spec.amiFamily", "AL2023"},
			wantErr: "an AMI selector term needs an alias, id, name, tags or ssmParameter"},
		{name: "no AMI terms", base: validEC2NodeClass, edits: []string{ami, `[]`},
			wantErr: "should have at least 1 items"},
		{name: "unknown family", base: validEC2NodeClass, edits: []string{"spec.amiFamily", "Windows2022"},
			wantErr: `supported values: "AL2023", "Bottlerocket", "Custom"`},
		{name: "subnet by id", base: validEC2NodeClass, edits: []string{"spec.subnetSelectorTerms", `[{id: subnet-0abc}, {id: subnet-0def}]`}},
		{name: "subnet tags and id", base: validEC2NodeClass, edits: []string{"spec.subnetSelectorTerms", `[{id: subnet-0abc, tags: {a: b}}]`},
			wantErr: "a subnet selector term needs exactly one of tags or id"},
		{name: "empty subnet term", base: validEC2NodeClass, edits: []string{"spec.subnetSelectorTerms", `[{}]`},
			wantErr: "a subnet selector term needs exactly one of tags or id"},
		{name: "empty selector tag value", base: validEC2NodeClass, edits: []string{"spec.subnetSelectorTerms", `[{tags: {a: ""}}]`},
			wantErr: "selector tag keys and values must not be empty"},
		{name: "no subnet terms", base: validEC2NodeClass, edits: []string{"spec.subnetSelectorTerms", "-"},
			wantErr: "spec.subnetSelectorTerms: Required value"},
		{name: "security group by name and tags", base: validEC2NodeClass, edits: []string{"spec.securityGroupSelectorTerms", `[{name: nodes, tags: {a: b}}, {id: sg-0abc}]`}},
		{name: "security group id and name", base: validEC2NodeClass, edits: []string{"spec.securityGroupSelectorTerms", `[{id: sg-0abc, name: nodes}]`},
			wantErr: "a security group selector term with an id can't also have tags or name"},
		{name: "empty security group term", base: validEC2NodeClass, edits: []string{"spec.securityGroupSelectorTerms", `[{}]`},
			wantErr: "a security group selector term needs tags, id or name"},
		{name: "too many security group terms", base: validEC2NodeClass, edits: []string{"spec.securityGroupSelectorTerms", "[" + strings.Repeat(`{id: sg-1},`, 31) + "]"},
			wantErr: "must have at most 30 items"},
		{name: "user tags", base: validEC2NodeClass, edits: []string{"spec.tags", `{team: payments, nodewright.dev/custom: x}`}},
		{name: "cluster tag", base: validEC2NodeClass, edits: []string{"spec.tags", `{team: a, kubernetes.io/cluster/prod: owned}`},
			wantErr: "tag key kubernetes.io/cluster/prod is reserved"},
		{name: "nodepool tag", base: validEC2NodeClass, edits: []string{"spec.tags", `{nodewright.dev/nodepool: x}`},
			wantErr: "tag key nodewright.dev/nodepool is reserved"},
		{name: "nodeclaim tag", base: validEC2NodeClass, edits: []string{"spec.tags", `{nodewright.dev/nodeclaim: x}`},
			wantErr: "tag key nodewright.dev/nodeclaim is reserved"},
		{name: "ec2nodeclass tag", base: validEC2NodeClass, edits: []string{"spec.tags", `{nodewright.dev/ec2nodeclass: x}`},
			wantErr: "tag key nodewright.dev/ec2nodeclass is reserved"},
		{name: "eks cluster tag", base: validEC2NodeClass, edits: []string{"spec.tags", `{"eks:eks-cluster-name": x}`},
			wantErr: "tag key eks:eks-cluster-name is reserved"},
		{name: "empty tag key", base: validEC2NodeClass, edits: []string{"spec.tags", `{"": x}`},
			wantErr: "tag keys must not be empty"},
		{name: "block devices", base: validEC2NodeClass, edits: []string{"spec.blockDeviceMappings",
			`[{deviceName: /dev/xvda, rootVolume: true, ebs: {volumeSize: 100Gi, volumeType: gp3, iops: 3000, throughput: 250, encrypted: true, deleteOnTermination: true}}, {deviceName: /dev/xvdb, ebs: {volumeSize: 20Gi, volumeType: gp2}}]`}},
		{name: "two root volumes", base: validEC2NodeClass, edits: []string{"spec.blockDeviceMappings", `[{deviceName: /dev/xvda, rootVolume: true}, {deviceName: /dev/xvdb, rootVolume: true}]`},
			wantErr: "at most one block device mapping may be the root volume"},
		{name: "throughput on gp2", base: validEC2NodeClass, edits: []string{"spec.blockDeviceMappings", `[{ebs: {volumeType: gp2, throughput: 200}}]`},
			wantErr: "throughput can only be set for gp3 volumes"},
		{name: "unknown volume type", base: validEC2NodeClass, edits: []string{"spec.blockDeviceMappings", `[{ebs: {volumeType: gp9}}]`},
			wantErr: "spec.blockDeviceMappings[0].ebs.volumeType: Unsupported value"},
		{name: "hop limit 65", base: validEC2NodeClass, edits: []string{"spec.metadataOptions", `{httpPutResponseHopLimit: 65}`},
			wantErr: "should be less than or equal to 64"},
		{name: "httpTokens maybe", base: validEC2NodeClass, edits: []string{"spec.metadataOptions", `{httpTokens: maybe}`},
			wantErr: `supported values: "required", "optional"`},
		{name: "kubelet", base: validEC2NodeClass, edits: []string{kubelet, `{maxPods: 110, podsPerCore: 10, clusterDNS: [10.100.0.10],
			systemReserved: {cpu: 100m, memory: 100Mi, ephemeral-storage: 1Gi, pid: "1000"}, kubeReserved: {cpu: 200m},
			evictionHard: {memory.available: 5%, nodefs.available: 10%, pid.available: "100"},
			evictionSoft: {memory.available: 500Mi}, evictionSoftGracePeriod: {memory.available: 1m30s},
			imageGCHighThresholdPercent: 85, imageGCLowThresholdPercent: 80}`}},
		{name: "systemReserved gpu", base: validEC2NodeClass, edits: []string{kubelet, `{systemReserved: {nvidia.com/gpu: "1"}}`},
			wantErr: "systemReserved may only reserve cpu, memory, ephemeral-storage and pid"},
		{name: "kubeReserved pods", base: validEC2NodeClass, edits: []string{kubelet, `{kubeReserved: {pods: "1"}}`},
			wantErr: "kubeReserved may only reserve cpu, memory, ephemeral-storage and pid"},
		{name: "kubeReserved not a quantity", base: validEC2NodeClass, edits: []string{kubelet, `{kubeReserved: {cpu: lots}}`},
			wantErr: "kubeReserved values must be non-negative quantities"},
		{name: "systemReserved negative", base: validEC2NodeClass, edits: []string{kubelet, `{systemReserved: {memory: -1Gi}}`},
			wantErr: "systemReserved values must be non-negative quantities"},
		{name: "evictionHard unknown signal", base: validEC2NodeClass, edits: []string{kubelet, `{evictionHard: {cpu.available: 5%}}`},
			wantErr: "evictionHard signals must be memory.available"},
		{name: "evictionHard bad threshold", base: validEC2NodeClass, edits: []string{kubelet, `{evictionHard: {memory.available: 150%}}`},
			wantErr: "eviction thresholds must be percentages such as 10% or quantities such as 100Mi"},
		{name: "evictionSoft without grace period", base: validEC2NodeClass, edits: []string{kubelet, `{evictionSoft: {memory.available: 5%, nodefs.available: 10%}, evictionSoftGracePeriod: {memory.available: 1m}}`},
			wantErr: "every evictionSoft signal needs an evictionSoftGracePeriod"},
		{name: "grace period without evictionSoft", base: validEC2NodeClass, edits: []string{kubelet, `{evictionSoftGracePeriod: {memory.available: 1m}}`},
			wantErr: "every evictionSoftGracePeriod signal needs an evictionSoft threshold"},
		{name: "evictionSoftGracePeriod unknown signal", base: validEC2NodeClass, edits: []string{kubelet, `{evictionSoft: {memory.available: 5%}, evictionSoftGracePeriod: {memory.available: 1m, cpu: 1m}}`},
			wantErr: "evictionSoftGracePeriod signals must be memory.available"},
		{name: "podsPerCore on a bottlerocket alias", base: validEC2NodeClass, edits: []string{ami, `[{alias: bottlerocket@latest}]`, kubelet, `{podsPerCore: 10}`},
			wantErr: "kubelet.podsPerCore is not supported on the Bottlerocket AMI family"},
		{name: "podsPerCore on a Bottlerocket family", base: validEC2NodeClass, edits: []string{ami, `[{id: ami-0123456789}]`, "spec.amiFamily", "Bottlerocket", kubelet, `{podsPerCore: 10}`},
			wantErr: "kubelet.podsPerCore is not supported on the Bottlerocket AMI family"},
		{name: "bottlerocket with every other kubelet field", base: validEC2NodeClass, edits: []string{ami, `[{alias: bottlerocket@latest}]`, kubelet, `{maxPods: 110, clusterDNS: [10.100.0.10, 169.254.20.10],
			systemReserved: {cpu: 100m}, kubeReserved: {cpu: 200m}, evictionHard: {memory.available: 5%}, evictionSoft: {memory.available: 500Mi},
			evictionSoftGracePeriod: {memory.available: 1m30s}, evictionMaxPodGracePeriod: 60, imageGCHighThresholdPercent: 85, imageGCLowThresholdPercent: 80, cpuCFSQuota: false}`}},
		{name: "podsPerCore on a Custom family", base: validEC2NodeClass, edits: []string{ami, `[{id: ami-0123456789}]`, "spec.amiFamily", "Custom", kubelet, `{podsPerCore: 10}`}},
		{name: "image GC thresholds inverted", base: validEC2NodeClass, edits: []string{kubelet, `{imageGCHighThresholdPercent: 50, imageGCLowThresholdPercent: 80}`},
			wantErr: "imageGCHighThresholdPercent must be greater than imageGCLowThresholdPercent"},
	})
}

// TestGeneratedFilesAreCurrent regenerates the CRDs and deepcopy code into a
// temporary directory and compares them with the committed ones.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	bin, err := localcloud.DefaultBinDir()
	if err != nil {
		t.Skipf("no bin dir: %v", err)
	}
	gen := filepath.Join(bin, "controller-gen")
	if _, err := os.Stat(gen); err != nil {
		t.Skipf("controller-gen not built (%v): run `make tools` or set NODEWRIGHT_BIN_DIR", err)
	}
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	crds, objs := filepath.Join(out, "crds"), filepath.Join(out, "object")
	for _, args := range [][]string{
		{"crd", "paths=./controller/api/...", "output:crd:artifacts:config=" + crds},
		{"object", "paths=./controller/api/...", "output:object:dir=" + objs},
	} {
		cmd := exec.Command(gen, args...)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("controller-gen %s: %v\n%s", args[0], err, b)
		}
	}
	compare := func(generated, committed string) {
		want, err := os.ReadFile(generated)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(committed)
		if err != nil {
			t.Errorf("%s: %v (run `make generate`)", committed, err)
			return
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `make generate`", committed)
		}
	}
	files, _ := filepath.Glob(filepath.Join(crds, "*.yaml"))
	if len(files) != 3 {
		t.Fatalf("controller-gen made %d CRDs, want 3", len(files))
	}
	for _, f := range files {
		compare(f, filepath.Join(root, "controller", "crds", filepath.Base(f)))
	}
	if committed, _ := filepath.Glob(filepath.Join(root, "controller", "crds", "*.yaml")); len(committed) != len(files) {
		t.Errorf("controller/crds has %d files, controller-gen makes %d: remove stale ones", len(committed), len(files))
	}
	compare(filepath.Join(objs, "zz_generated.deepcopy.go"), filepath.Join(root, "controller", "api", "v1", "zz_generated.deepcopy.go"))
}

// TestPrinterColumns reads a NodeClaim back as a server-side Table, as
// kubectl get does, to check the columns' JSONPaths find the labels.
func TestPrinterColumns(t *testing.T) {
	u := object(t, validNodeClaim)
	u.SetLabels(map[string]string{
		corev1.LabelInstanceTypeStable: "m5.large", v1.CapacityTypeLabelKey: "spot",
		corev1.LabelTopologyZone: "us-east-1a", v1.NodePoolLabelKey: "default",
	})
	create(t, u)
	hc, err := rest.HTTPClientFor(cloud.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, cloud.RESTConfig.Host+"/apis/nodewright.dev/v1/nodeclaims/"+u.GetName()+"?includeObject=None", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var table metav1.Table
	if err := json.NewDecoder(resp.Body).Decode(&table); err != nil || len(table.Rows) != 1 {
		t.Fatalf("decoding table (status %s): %v, %d rows", resp.Status, err, len(table.Rows))
	}
	got := map[string]any{}
	for i, col := range table.ColumnDefinitions {
		got[col.Name] = table.Rows[0].Cells[i]
	}
	for col, want := range map[string]any{"Type": "m5.large", "Capacity": "spot", "Zone": "us-east-1a", "NodePool": "default"} {
		if got[col] != want {
			t.Errorf("column %s = %v, want %v (row %v)", col, got[col], want, got)
		}
	}
}
