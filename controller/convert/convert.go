// Package convert turns Karpenter's NodePools, Provisioners, EC2NodeClasses
// and AWSNodeTemplates, of every API generation (karpenter.sh/v1alpha5 with
// karpenter.k8s.aws/v1alpha1, v1beta1, v1), into nodewright's NodePools and
// EC2NodeClasses. It is pure: bytes in, objects and findings out. Every
// field that has no equivalent, or whose meaning changes, is a Finding
// naming the source object and the field path; a conversion that loses
// meaning has a lossy one.
package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// Finding is something the conversion could not carry over as it was.
type Finding struct {
	// Object is the source object, "Kind name".
	Object string
	// Field is the source field's path, such as spec.ttlSecondsAfterEmpty.
	Field string
	// Message says what became of it.
	Message string
	// Lossy: the output means less than, or something else than, the source.
	Lossy bool
}

func (f Finding) String() string {
	kind := "note"
	if f.Lossy {
		kind = "lossy"
	}
	if f.Field == "" {
		return fmt.Sprintf("%s: %s: %s", kind, f.Object, f.Message)
	}
	return fmt.Sprintf("%s: %s: %s: %s", kind, f.Object, f.Field, f.Message)
}

// Result is the converted objects and what the conversion found.
type Result struct {
	NodePools   []*v1.NodePool
	NodeClasses []*v1.EC2NodeClass
	Findings    []Finding
	// Placeholders maps each sentinel the output holds to the placeholder
	// text it stands for (left unresolved: no --set gave its value).
	Placeholders map[string]string
	// Sources names, for each output object ("Kind name"), the source
	// object it was made from.
	Sources map[string]string
	// Module is Options.Module; RoleFromModule names the classes whose
	// role is the module's node role.
	Module         string
	RoleFromModule map[string]bool
	// Imported names the objects ("Kind name") that exist in the cluster
	// already (migrate --adopt made them): the Terraform output imports
	// them rather than creating them.
	Imported map[string]bool
}

// Lossy reports whether any finding loses meaning.
func (r *Result) Lossy() bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Lossy })
}

// FindingsFor lists the findings about one source object ("Kind name").
func (r *Result) FindingsFor(source string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Object == source {
			out = append(out, f)
		}
	}
	return out
}

// Options tune a conversion.
type Options struct {
	// Set gives placeholders their values: NAME for ${NAME}, and for a Helm
	// expression its last field (CLUSTER_NAME for {{ .Values.CLUSTER_NAME }})
	// or the whole expression.
	Set map[string]string
	// Role is the node IAM role for node classes that name neither a role
	// nor an instance profile (v1alpha5 took the profile from Karpenter's
	// settings).
	Role string
	// Module names the Terraform module that installs nodewright (the
	// modules/nodewright call), for HCL output: every resource waits for
	// it, and a class without a role or Role takes its node_role_name.
	Module string
}

// converter holds one conversion's state.
type converter struct {
	res  *Result
	role string
	// classes by name, and the source each came from, for findings.
	classes      map[string]*v1.EC2NodeClass
	classSources map[string]string
	// pending kubelet blocks of v1beta1 NodePools, which v1 moved to the
	// node class; applied once every class is read.
	kubelets []pendingKubelet
}

type pendingKubelet struct {
	source, field, class string
	kubelet              *v1.KubeletConfiguration
}

// Convert reads every object in input (multi-document YAML or JSON, Lists,
// Helm output) and converts the Karpenter ones. Objects of other kinds are
// skipped with a note. Placeholders are resolved from opts.Set first; the
// ones left are reported and kept in the output as written.
func Convert(input []byte, opts Options) (*Result, error) {
	text, placeholders := resolvePlaceholders(string(input), opts.Set)
	c := &converter{role: opts.Role, res: &Result{Placeholders: map[string]string{}, Sources: map[string]string{},
		Module: opts.Module, RoleFromModule: map[string]bool{}}, classes: map[string]*v1.EC2NodeClass{}, classSources: map[string]string{}}
	for _, p := range placeholders {
		c.res.Placeholders[p.sentinel] = p.text
		c.res.Findings = append(c.res.Findings, Finding{Object: "input", Field: fmt.Sprintf("line %d", p.line), Lossy: true,
			Message: fmt.Sprintf("placeholder %s is not resolved; give its value with --set %s=VALUE", p.text, p.name)})
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	var objs []*unstructured.Unstructured
	for doc := 1; ; doc++ {
		var raw map[string]any
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", doc, err)
		}
		if len(raw) > 0 {
			objs = append(objs, flatten(&unstructured.Unstructured{Object: raw})...)
		}
	}
	// Node classes first: pools refer to them, and v1alpha5 Provisioners
	// may carry one inline.
	sort.SliceStable(objs, func(i, j int) bool { return isClass(objs[i]) && !isClass(objs[j]) })
	for _, u := range objs {
		c.convert(u)
	}
	c.applyKubelets()
	for _, name := range sortedKeys(c.classes) {
		c.res.NodeClasses = append(c.res.NodeClasses, c.classes[name])
		c.res.Sources["EC2NodeClass "+name] = c.classSources[name]
	}
	sort.Slice(c.res.NodePools, func(i, j int) bool { return c.res.NodePools[i].Name < c.res.NodePools[j].Name })
	return c.res, nil
}

// flatten expands Lists into their items.
func flatten(u *unstructured.Unstructured) []*unstructured.Unstructured {
	if !strings.HasSuffix(u.GetKind(), "List") {
		return []*unstructured.Unstructured{u}
	}
	items, _, _ := unstructured.NestedSlice(u.Object, "items")
	var out []*unstructured.Unstructured
	for _, item := range items {
		if m, ok := item.(map[string]any); ok {
			out = append(out, flatten(&unstructured.Unstructured{Object: m})...)
		}
	}
	return out
}

func isClass(u *unstructured.Unstructured) bool {
	return u.GetKind() == "EC2NodeClass" || u.GetKind() == "AWSNodeTemplate"
}

func (c *converter) convert(u *unstructured.Unstructured) {
	src := u.GetKind() + " " + u.GetName()
	gv := u.GetAPIVersion()
	switch {
	case u.GetKind() == "Provisioner" && gv == "karpenter.sh/v1alpha5":
		c.provisioner(src, u)
	case u.GetKind() == "AWSNodeTemplate" && gv == "karpenter.k8s.aws/v1alpha1":
		c.nodeTemplate(src, u)
	case u.GetKind() == "NodePool" && (gv == "karpenter.sh/v1beta1" || gv == "karpenter.sh/v1"):
		c.nodePool(src, u, gv == "karpenter.sh/v1beta1")
	case u.GetKind() == "EC2NodeClass" && (gv == "karpenter.k8s.aws/v1beta1" || gv == "karpenter.k8s.aws/v1"):
		c.nodeClass(src, u, gv == "karpenter.k8s.aws/v1beta1")
	case strings.HasPrefix(gv, "karpenter.sh/") || strings.HasPrefix(gv, "karpenter.k8s.aws/"):
		c.note(src, "", true, fmt.Sprintf("%s %s is not an API generation nodewright converts", gv, u.GetKind()))
	default:
		c.note(src, "", false, "not a Karpenter object; left out")
	}
}

func (c *converter) note(object, field string, lossy bool, message string) {
	c.res.Findings = append(c.res.Findings, Finding{Object: object, Field: field, Message: message, Lossy: lossy})
}

// fields walks one object's map, taking the fields the conversion knows;
// rest reports the ones left.
type fields struct {
	c    *converter
	src  string
	path string
	m    map[string]any
}

func (c *converter) fields(src string, m map[string]any, path string) fields {
	return fields{c: c, src: src, path: path, m: m}
}

func (f fields) at(key string) string {
	if f.path == "" {
		return key
	}
	return f.path + "." + key
}

// take decodes key into into, reporting whether it was there.
func (f fields) take(key string, into any) bool {
	v, ok := f.m[key]
	if !ok {
		return false
	}
	delete(f.m, key)
	data, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(data, into)
	}
	if err != nil {
		f.c.note(f.src, f.at(key), true, fmt.Sprintf("cannot be read (%v); left out", err))
		return false
	}
	// Fields the typed value has no place for vanish silently in
	// json.Unmarshal; finding them means comparing it with the source.
	var back any
	if data, err := json.Marshal(into); err == nil && json.Unmarshal(data, &back) == nil {
		for _, path := range unknownFields(v, back, f.at(key)) {
			f.c.note(f.src, path, true, "has no nodewright equivalent; left out")
		}
	}
	return true
}

// unknownFields lists the paths in src that typed, its round trip through
// a nodewright type, lost. Zero values are not counted: omitempty drops
// them on the way back.
func unknownFields(src, typed any, path string) []string {
	var out []string
	switch s := src.(type) {
	case map[string]any:
		t, _ := typed.(map[string]any)
		for _, k := range sortedKeys(s) {
			tv, ok := t[k]
			if !ok {
				if !zero(s[k]) {
					out = append(out, path+"."+k)
				}
				continue
			}
			out = append(out, unknownFields(s[k], tv, path+"."+k)...)
		}
	case []any:
		t, _ := typed.([]any)
		for i, v := range s {
			if i < len(t) {
				out = append(out, unknownFields(v, t[i], fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return out
}

func zero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case float64:
		return x == 0
	case string:
		return x == ""
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// sub is the nested object under key, taken.
func (f fields) sub(key string) fields {
	m, _ := f.m[key].(map[string]any)
	delete(f.m, key)
	if m == nil {
		m = map[string]any{}
	}
	return f.c.fields(f.src, m, f.at(key))
}

// drop removes key without a finding (status, fields nodewright sets).
func (f fields) drop(keys ...string) {
	for _, k := range keys {
		delete(f.m, k)
	}
}

// rest reports every field left as having no equivalent.
func (f fields) rest() {
	for _, k := range sortedKeys(f.m) {
		f.c.note(f.src, f.at(k), true, "has no nodewright equivalent; left out")
	}
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
