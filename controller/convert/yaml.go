package convert

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// WriteYAML writes the converted objects as one multi-document YAML
// stream, node classes first, each preceded by comments giving its source
// and the findings about it. Unresolved placeholders are written as they
// were in the input.
func WriteYAML(w io.Writer, res *Result) error {
	var b strings.Builder
	write := func(kind, name string, obj any) error {
		out, err := cleanYAML(obj)
		if err != nil {
			return fmt.Errorf("%s %s: %w", kind, name, err)
		}
		src := res.Sources[kind+" "+name]
		b.WriteString("---\n")
		fmt.Fprintf(&b, "# converted from %s\n", src)
		for _, f := range res.FindingsFor(src) {
			fmt.Fprintf(&b, "# %s\n", f)
		}
		b.WriteString(out)
		return nil
	}
	for _, nc := range res.NodeClasses {
		if err := write("EC2NodeClass", nc.Name, nc); err != nil {
			return err
		}
	}
	for _, np := range res.NodePools {
		if err := write("NodePool", np.Name, np); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, restore(b.String(), res.Placeholders))
	return err
}

// cleanYAML is the object as YAML without the fields a new object has no
// use for: an empty status and a null creationTimestamp.
func cleanYAML(obj any) (string, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return "", err
	}
	delete(m, "status")
	if meta, ok := m["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	out, err := yaml.Marshal(m)
	return string(out), err
}
