// Package moduledocs writes the input and output tables of each module's
// README from its variables.tf and outputs.tf, between the markers
// <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS -->. terraform-docs is not
// reachable from the module proxy, so this small generator stands in for it;
// `go run ./test/moduledocs` rewrites, and its test fails when a README is stale.
package moduledocs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

const (
	begin = "<!-- BEGIN_TF_DOCS -->"
	end   = "<!-- END_TF_DOCS -->"
)

type variable struct {
	name, description, typ, def string
	required                    bool
}

type output struct{ name, description string }

// Tables renders the module in dir as markdown.
func Tables(dir string) (string, error) {
	vars, err := readVariables(filepath.Join(dir, "variables.tf"))
	if err != nil {
		return "", err
	}
	outs, err := readOutputs(filepath.Join(dir, "outputs.tf"))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("## Inputs\n\n| Name | Description | Type | Default | Required |\n|------|-------------|------|---------|:--------:|\n")
	for _, v := range vars {
		def, req := "`"+v.def+"`", "no"
		if v.required {
			def, req = "n/a", "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s |\n", v.name, cell(v.description), cell(v.typ), cell(def), req)
	}
	b.WriteString("\n## Outputs\n\n| Name | Description |\n|------|-------------|\n")
	for _, o := range outs {
		fmt.Fprintf(&b, "| %s | %s |\n", o.name, cell(o.description))
	}
	return b.String(), nil
}

func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", "\\|")
}

func parse(path string) (*hclsyntax.Body, []byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	return f.Body.(*hclsyntax.Body), src, nil
}

func readVariables(path string) ([]variable, error) {
	body, src, err := parse(path)
	if err != nil {
		return nil, err
	}
	var out []variable
	for _, blk := range body.Blocks {
		if blk.Type != "variable" || len(blk.Labels) != 1 {
			continue
		}
		v := variable{name: blk.Labels[0], required: true}
		for name, attr := range blk.Body.Attributes {
			text := strings.TrimSpace(string(attr.Expr.Range().SliceBytes(src)))
			switch name {
			case "description":
				val, diags := attr.Expr.Value(nil)
				if diags.HasErrors() {
					return nil, fmt.Errorf("%s: variable %s: description must be a literal string", path, v.name)
				}
				v.description = val.AsString()
			case "type":
				v.typ = text
			case "default":
				v.def, v.required = text, false
			}
		}
		if v.description == "" {
			return nil, fmt.Errorf("%s: variable %s has no description", path, v.name)
		}
		out = append(out, v)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].required && !out[j].required })
	return out, nil
}

func readOutputs(path string) ([]output, error) {
	body, _, err := parse(path)
	if err != nil {
		return nil, err
	}
	var out []output
	for _, blk := range body.Blocks {
		if blk.Type != "output" || len(blk.Labels) != 1 {
			continue
		}
		o := output{name: blk.Labels[0]}
		if attr, ok := blk.Body.Attributes["description"]; ok {
			val, diags := attr.Expr.Value(nil)
			if !diags.HasErrors() {
				o.description = val.AsString()
			}
		}
		if o.description == "" {
			return nil, fmt.Errorf("%s: output %s has no description", path, o.name)
		}
		out = append(out, o)
	}
	return out, nil
}

// Render returns readme with its generated section replaced.
func Render(readme, tables string) (string, error) {
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("README lacks the %s ... %s markers", begin, end)
	}
	return readme[:i+len(begin)] + "\n" + tables + readme[j:], nil
}
