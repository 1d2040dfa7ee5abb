package convert

import (
	"slices"

	"encoding/json"
	"fmt"
	"io"
	"regexp"

	"github.com/hashicorp/hcl/v2"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// DefaultModuleSource is where the node-pool module is published.
const DefaultModuleSource = "github.com/nodewright/nodewright//modules/node-pool"

// moduleAlias is the ami_alias the node-pool module accepts.
var moduleAlias = regexp.MustCompile(`^(al2023|bottlerocket)@(latest|v[0-9]+(\.[0-9]+)*)$`)

// WriteHCLModules writes the converted objects as calls of the node-pool
// module at source, one per NodePool, for a configuration that already
// calls modules/nodewright. The module makes a pool's class from its
// variables when the class is the pool's alone, has the pool's name, and
// says nothing those variables cannot (one alias, one tag term each for
// subnets and security groups, a role, tags). Any other class is written
// as a nodewright_node_class resource, which the calls of the pools that
// use it name in node_class. Nothing is lost either way.
func WriteHCLModules(w io.Writer, res *Result, source string) error {
	h := newHCLWriter(res)
	users := map[string]int{}
	for _, np := range res.NodePools {
		if ref := np.Spec.Template.Spec.NodeClassRef; ref != nil {
			users[ref.Name]++
		}
	}
	inModule := map[string]map[string]any{}
	for _, nc := range res.NodeClasses {
		if vars, ok := moduleClassVariables(nc); ok && users[nc.Name] == 1 && poolNamed(res, nc.Name) {
			inModule[nc.Name] = vars
			delete(h.classLabel, nc.Name)
			continue
		}
		if err := h.class(nc); err != nil {
			return err
		}
	}
	for _, np := range res.NodePools {
		vars, err := modulePoolVariables(np)
		if err != nil {
			return fmt.Errorf("NodePool %s: %w", np.Name, err)
		}
		class, own := inModule[np.Name]
		h.block("NodePool", np.Name, "module", []string{resourceLabel(np.Name)}, func(b *hclwrite.Body) {
			b.SetAttributeValue("source", cty.StringVal(source))
			b.SetAttributeValue("name", cty.StringVal(np.Name))
			if !own {
				h.nodeClass(b, np)
			} else if h.res.RoleFromModule[np.Name] {
				b.SetAttributeTraversal("node_role_name", h.moduleRole())
			}
			setAttributes(b, class)
			for _, k := range []string{"capacity_types", "instance_categories", "min_generation", "architectures"} {
				// The module's defaults would add requirements the source
				// did not have.
				if _, ok := vars[k]; !ok {
					b.SetAttributeValue(k, cty.NullVal(cty.DynamicPseudoType))
				}
			}
			setAttributes(b, vars)
		})
		module := hcl.Traversal{hcl.TraverseRoot{Name: "module"}, hcl.TraverseAttr{Name: resourceLabel(np.Name)}}
		h.importIf("NodePool", np.Name, append(slices.Clone(module), hcl.TraverseAttr{Name: "nodewright_node_pool"}, hcl.TraverseAttr{Name: "this"}))
		if own {
			h.importIf("EC2NodeClass", np.Name, append(slices.Clone(module), hcl.TraverseAttr{Name: "nodewright_node_class"}, hcl.TraverseAttr{Name: "this"},
				hcl.TraverseIndex{Key: cty.NumberIntVal(0)}))
		}
	}
	return h.flush(w)
}

func poolNamed(res *Result, name string) bool {
	for _, np := range res.NodePools {
		if np.Name == name {
			return true
		}
	}
	return false
}

// moduleClassVariables are the node-pool module's variables that make nc,
// or false when it says more than they can.
func moduleClassVariables(nc *v1.EC2NodeClass) (map[string]any, bool) {
	spec, err := snakeSpec(nc.Spec)
	if err != nil {
		return nil, false
	}
	vars := map[string]any{}
	if role, ok := spec["role"].(string); ok && role != "" {
		vars["node_role_name"] = role
	}
	delete(spec, "role")
	alias, ok := onlyField(spec["ami_selector_terms"], "alias")
	if s, isString := alias.(string); !ok || !isString || !moduleAlias.MatchString(s) {
		return nil, false
	}
	vars["ami_alias"] = alias
	for from, to := range map[string]string{"subnet_selector_terms": "subnet_tags", "security_group_selector_terms": "security_group_tags"} {
		tags, ok := onlyField(spec[from], "tags")
		if !ok {
			return nil, false
		}
		vars[to] = tags
	}
	if tags, ok := spec["tags"]; ok {
		vars["tags"] = tags
	}
	for _, k := range []string{"ami_selector_terms", "subnet_selector_terms", "security_group_selector_terms", "tags"} {
		delete(spec, k)
	}
	return vars, len(spec) == 0
}

// onlyField is the value of field in terms when they are one term that
// has only that field.
func onlyField(terms any, field string) (any, bool) {
	list, ok := terms.([]any)
	if !ok || len(list) != 1 {
		return nil, false
	}
	term, ok := list[0].(map[string]any)
	if !ok || len(term) != 1 {
		return nil, false
	}
	v, ok := term[field]
	return v, ok
}

// modulePoolVariables lays a NodePool out as the node-pool module's
// variables: the requirements the module has variables for, the rest as
// extra_requirements, and the pool's other fields. consolidate_after is
// always given, as the module's default differs from the NodePool's.
func modulePoolVariables(np *v1.NodePool) (map[string]any, error) {
	attrs, err := poolAttributes(np)
	if err != nil {
		return nil, err
	}
	vars := map[string]any{}
	var extra []v1.NodeSelectorRequirementWithMinValues
	for _, r := range np.Spec.Template.Spec.Requirements {
		name, value, ok := moduleRequirement(r)
		if _, taken := vars[name]; !ok || taken {
			extra = append(extra, r)
			continue
		}
		vars[name] = value
	}
	if len(extra) > 0 {
		data, err := json.Marshal(extra)
		if err != nil {
			return nil, err
		}
		var list []any
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, err
		}
		vars["extra_requirements"] = snakeKeys(list, true)
	}
	delete(attrs, "requirements")
	if d, ok := attrs["disruption"].(map[string]any); ok {
		for k, v := range d {
			vars[k] = v
		}
		delete(attrs, "disruption")
	}
	if _, ok := vars["consolidate_after"]; !ok {
		vars["consolidate_after"] = "0s"
	}
	if c, ok := attrs["cost_per_node_hour"]; ok {
		vars["cost_per_node_hour"] = c
		delete(attrs, "cost_per_node_hour")
	}
	for k, v := range attrs {
		vars[k] = v
	}
	return vars, nil
}

// moduleRequirement is the module variable that says r, and its value.
func moduleRequirement(r v1.NodeSelectorRequirementWithMinValues) (string, any, bool) {
	if r.MinValues != nil {
		return "", nil, false
	}
	values := make([]any, len(r.Values))
	for i, v := range r.Values {
		values[i] = v
	}
	switch {
	case r.Operator == corev1.NodeSelectorOpIn && r.Key == v1.CapacityTypeLabelKey:
		return "capacity_types", values, true
	case r.Operator == corev1.NodeSelectorOpIn && r.Key == v1.InstanceCategoryLabel:
		return "instance_categories", values, true
	case r.Operator == corev1.NodeSelectorOpIn && r.Key == corev1.LabelArchStable:
		return "architectures", values, true
	case r.Operator == corev1.NodeSelectorOpGt && r.Key == v1.InstanceGenerationLabel && len(r.Values) == 1:
		var n float64
		if _, err := fmt.Sscan(r.Values[0], &n); err != nil {
			return "", nil, false
		}
		return "min_generation", n, true
	}
	return "", nil, false
}
