package convert

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// WriteHCL writes the converted objects as Terraform for a configuration
// that already calls modules/nodewright: a nodewright_node_class resource
// per EC2NodeClass and a nodewright_node_pool per NodePool, the pools
// referring to their classes, each preceded by comments giving its source
// and the findings about it. With Options.Module, each waits for that
// module (which installs the CRDs).
func WriteHCL(w io.Writer, res *Result) error {
	h := newHCLWriter(res)
	for _, nc := range res.NodeClasses {
		if err := h.class(nc); err != nil {
			return err
		}
	}
	for _, np := range res.NodePools {
		attrs, err := poolAttributes(np)
		if err != nil {
			return fmt.Errorf("NodePool %s: %w", np.Name, err)
		}
		h.block("NodePool", np.Name, "resource", []string{"nodewright_node_pool", resourceLabel(np.Name)}, func(b *hclwrite.Body) {
			b.SetAttributeValue("name", cty.StringVal(np.Name))
			h.nodeClass(b, np)
			setAttributes(b, attrs)
		})
		h.importIf("NodePool", np.Name, hcl.Traversal{hcl.TraverseRoot{Name: "nodewright_node_pool"}, hcl.TraverseAttr{Name: resourceLabel(np.Name)}})
	}
	return h.flush(w)
}

// importIf writes an import block for the object, to address to, when it
// exists in the cluster already.
func (h *hclWriter) importIf(kind, name string, to hcl.Traversal) {
	if !h.res.Imported[kind+" "+name] {
		return
	}
	fmt.Fprintf(&h.out, "# %s %s exists in the cluster (nodewright migrate --adopt made it): import it\n", kind, name)
	f := hclwrite.NewEmptyFile()
	b := f.Body().AppendNewBlock("import", nil).Body()
	b.SetAttributeTraversal("to", to)
	b.SetAttributeValue("id", cty.StringVal(name))
	h.out.Write(f.Bytes())
	h.out.WriteString("\n")
}

// hclWriter accumulates blocks, each under comments naming its source and
// the findings about it.
type hclWriter struct {
	res        *Result
	out        strings.Builder
	classLabel map[string]string
}

func newHCLWriter(res *Result) *hclWriter {
	h := &hclWriter{res: res, classLabel: map[string]string{}}
	for _, nc := range res.NodeClasses {
		h.classLabel[nc.Name] = resourceLabel(nc.Name)
	}
	return h
}

// block writes one block of type typ, its comments above it; with
// Options.Module it waits for that module, which installs the CRDs.
func (h *hclWriter) block(kind, name, typ string, labels []string, fill func(*hclwrite.Body)) {
	src := h.res.Sources[kind+" "+name]
	fmt.Fprintf(&h.out, "# converted from %s\n", src)
	for _, fd := range h.res.FindingsFor(src) {
		fmt.Fprintf(&h.out, "# %s\n", fd)
	}
	f := hclwrite.NewEmptyFile()
	b := f.Body().AppendNewBlock(typ, labels).Body()
	fill(b)
	if h.res.Module != "" {
		b.SetAttributeRaw("depends_on", hclwrite.Tokens{
			{Type: hclsyntax.TokenOBrack, Bytes: []byte("[")},
			{Type: hclsyntax.TokenIdent, Bytes: []byte("module." + h.res.Module)},
			{Type: hclsyntax.TokenCBrack, Bytes: []byte("]")},
		})
	}
	h.out.Write(f.Bytes())
	h.out.WriteString("\n")
}

// class writes nc as a nodewright_node_class resource.
func (h *hclWriter) class(nc *v1.EC2NodeClass) error {
	spec, err := snakeSpec(nc.Spec)
	if err != nil {
		return fmt.Errorf("EC2NodeClass %s: %w", nc.Name, err)
	}
	h.block("EC2NodeClass", nc.Name, "resource", []string{"nodewright_node_class", resourceLabel(nc.Name)}, func(b *hclwrite.Body) {
		b.SetAttributeValue("name", cty.StringVal(nc.Name))
		setAttributes(b, spec)
		if h.res.RoleFromModule[nc.Name] {
			b.SetAttributeTraversal("role", h.moduleRole())
		}
	})
	h.importIf("EC2NodeClass", nc.Name, hcl.Traversal{hcl.TraverseRoot{Name: "nodewright_node_class"}, hcl.TraverseAttr{Name: resourceLabel(nc.Name)}})
	return nil
}

// moduleRole is the nodewright module's node role output.
func (h *hclWriter) moduleRole() hcl.Traversal {
	return hcl.Traversal{hcl.TraverseRoot{Name: "module"}, hcl.TraverseAttr{Name: h.res.Module}, hcl.TraverseAttr{Name: "node_role_name"}}
}

// nodeClass sets node_class to the class's resource when it is written
// here, else to the name the pool gives.
func (h *hclWriter) nodeClass(b *hclwrite.Body, np *v1.NodePool) {
	ref := np.Spec.Template.Spec.NodeClassRef
	if ref == nil {
		return
	}
	if label, ok := h.classLabel[ref.Name]; ok {
		b.SetAttributeTraversal("node_class", hcl.Traversal{
			hcl.TraverseRoot{Name: "nodewright_node_class"}, hcl.TraverseAttr{Name: label}, hcl.TraverseAttr{Name: "name"}})
		return
	}
	b.SetAttributeValue("node_class", cty.StringVal(ref.Name))
}

func (h *hclWriter) flush(w io.Writer) error {
	_, err := io.WriteString(w, restoreHCL(h.out.String(), h.res.Placeholders))
	return err
}

// restoreHCL puts placeholders back inside HCL strings, where ${ would be
// an interpolation: it is escaped as $${.
func restoreHCL(s string, placeholders map[string]string) string {
	for sentinel, text := range placeholders {
		text = strings.ReplaceAll(strings.ReplaceAll(text, `"`, `\"`), "${", "$${")
		s = strings.ReplaceAll(s, sentinel, text)
	}
	return s
}

// poolAttributes lays a NodePool out as nodewright_node_pool takes it: the
// template's fields at the top, with disruption and limits beside them.
func poolAttributes(np *v1.NodePool) (map[string]any, error) {
	t := np.Spec.Template
	spec := struct {
		Labels                 map[string]string                         `json:"labels,omitempty"`
		Annotations            map[string]string                         `json:"annotations,omitempty"`
		Requirements           []v1.NodeSelectorRequirementWithMinValues `json:"requirements,omitempty"`
		Taints                 any                                       `json:"taints,omitempty"`
		StartupTaints          any                                       `json:"startupTaints,omitempty"`
		ExpireAfter            v1.NillableDuration                       `json:"expireAfter,omitempty"`
		TerminationGracePeriod any                                       `json:"terminationGracePeriod,omitempty"`
		Disruption             *v1.Disruption                            `json:"disruption,omitempty"`
		Limits                 any                                       `json:"limits,omitempty"`
		Weight                 *int32                                    `json:"weight,omitempty"`
		CostPerNodeHour        string                                    `json:"costPerNodeHour,omitempty"`
	}{
		Labels: t.ObjectMeta.Labels, Annotations: t.ObjectMeta.Annotations, Requirements: t.Spec.Requirements,
		ExpireAfter: t.Spec.ExpireAfter, Weight: np.Spec.Weight, CostPerNodeHour: np.Spec.CostPerNodeHour,
	}
	if len(t.Spec.Taints) > 0 {
		spec.Taints = t.Spec.Taints
	}
	if len(t.Spec.StartupTaints) > 0 {
		spec.StartupTaints = t.Spec.StartupTaints
	}
	if t.Spec.TerminationGracePeriod != nil {
		spec.TerminationGracePeriod = t.Spec.TerminationGracePeriod
	}
	if d := np.Spec.Disruption; d.ConsolidationPolicy != "" || d.ConsolidateAfter != "" || len(d.Budgets) > 0 {
		spec.Disruption = &d
	}
	if len(np.Spec.Limits) > 0 {
		spec.Limits = np.Spec.Limits
	}
	return snakeSpec(spec)
}

// snakeSpec is v as JSON, its keys in Terraform's snake_case.
func snakeSpec(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return snakeKeys(m, true).(map[string]any), nil
}

// snakeKeys renames object keys; maps of user data (tags, labels,
// reservations) keep theirs.
func snakeKeys(v any, rename bool) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			if !rename {
				out[k] = val
				continue
			}
			out[snake(k)] = snakeKeys(val, !freeformMaps[k])
		}
		return out
	case []any:
		for i := range x {
			x[i] = snakeKeys(x[i], rename)
		}
	}
	return v
}

// freeformMaps are the fields whose keys are the user's, not a schema's.
var freeformMaps = map[string]bool{
	"tags": true, "labels": true, "annotations": true, "limits": true, "systemReserved": true, "kubeReserved": true,
	"evictionHard": true, "evictionSoft": true, "evictionSoftGracePeriod": true,
}

var (
	acronyms = strings.NewReplacer("IPv6", "Ipv6", "ID", "Id", "DNS", "Dns", "GC", "Gc", "CFS", "Cfs")
	humps    = regexp.MustCompile(`([a-z0-9])([A-Z])`)
)

// snake turns an API field name into its Terraform attribute name:
// kmsKeyID → kms_key_id, imageGCHighThresholdPercent → image_gc_high_threshold_percent.
func snake(s string) string {
	return strings.ToLower(humps.ReplaceAllString(acronyms.Replace(s), "${1}_${2}"))
}

// setAttributes writes attrs in name order.
func setAttributes(b *hclwrite.Body, attrs map[string]any) {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.SetAttributeValue(k, ctyValue(attrs[k]))
	}
}

// ctyValue is a JSON value as HCL writes it: objects, tuples, strings,
// numbers and bools.
func ctyValue(v any) cty.Value {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]cty.Value{}
		for k, val := range x {
			m[k] = ctyValue(val)
		}
		return cty.ObjectVal(m)
	case []any:
		if len(x) == 0 {
			return cty.EmptyTupleVal
		}
		vals := make([]cty.Value, len(x))
		for i := range x {
			vals[i] = ctyValue(x[i])
		}
		return cty.TupleVal(vals)
	case string:
		return cty.StringVal(x)
	case float64:
		return cty.NumberFloatVal(x)
	case bool:
		return cty.BoolVal(x)
	}
	return cty.NullVal(cty.DynamicPseudoType)
}

// resourceLabel is a Terraform resource name for an object name.
func resourceLabel(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || out[0] >= '0' && out[0] <= '9' {
		out = "pool_" + out
	}
	return out
}
