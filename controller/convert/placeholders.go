package convert

import (
	"fmt"
	"regexp"
	"strings"
)

// placeholder is a ${VAR} or Helm {{ ... }} left in the input.
type placeholder struct {
	text     string // as written
	name     string // what --set names it by
	sentinel string // what stands for it while the input is parsed
	line     int
}

const sentinelPrefix = "NODEWRIGHT_PLACEHOLDER_"

var placeholderRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\{\{-?\s*([^}]*?)\s*-?\}\}`)

// resolvePlaceholders substitutes the placeholders set gives a value, and
// swaps the others for sentinels that parse as plain YAML scalars (a bare
// {{ ... }} is a YAML flow mapping, and breaks the document). The output
// puts the original text back.
func resolvePlaceholders(text string, set map[string]string) (string, []placeholder) {
	var left []placeholder
	byText := map[string]string{}
	var b strings.Builder
	last := 0
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(text, -1) {
		whole := text[m[0]:m[1]]
		name, expr := "", ""
		if m[2] >= 0 {
			name = text[m[2]:m[3]]
		} else {
			expr = text[m[4]:m[5]]
			name = expr[strings.LastIndex(expr, ".")+1:]
		}
		b.WriteString(text[last:m[0]])
		last = m[1]
		if v, ok := set[name]; ok {
			b.WriteString(v)
			continue
		}
		if v, ok := set[expr]; ok && expr != "" {
			b.WriteString(v)
			continue
		}
		sentinel, seen := byText[whole]
		if !seen {
			sentinel = fmt.Sprintf("%s%d_", sentinelPrefix, len(byText))
			byText[whole] = sentinel
		}
		left = append(left, placeholder{text: whole, name: name, sentinel: sentinel, line: strings.Count(text[:m[0]], "\n") + 1})
		b.WriteString(sentinel)
	}
	b.WriteString(text[last:])
	return b.String(), left
}

// restore puts the placeholders' own text back in place of their
// sentinels in YAML output. A plain scalar that holds one is quoted first:
// a bare {{ ... }} would read back as a mapping.
func restore(yaml string, placeholders map[string]string) string {
	if len(placeholders) == 0 {
		return yaml
	}
	lines := strings.Split(yaml, "\n")
	for i, line := range lines {
		if !strings.Contains(line, sentinelPrefix) {
			continue
		}
		lines[i] = quoteScalar(line)
		for sentinel, text := range placeholders {
			lines[i] = strings.ReplaceAll(lines[i], sentinel, strings.ReplaceAll(text, `"`, `\"`))
		}
	}
	return strings.Join(lines, "\n")
}

// quoteScalar double-quotes the value of a "key: value" or "- value" line
// when the YAML writer left it plain.
func quoteScalar(line string) string {
	at := -1
	if i := strings.Index(line, ": "); i >= 0 {
		at = i + 2
	} else if t := strings.TrimLeft(line, " "); strings.HasPrefix(t, "- ") {
		at = len(line) - len(t) + 2
	}
	if at < 0 || at >= len(line) {
		return line
	}
	value := line[at:]
	if value[0] == '"' || value[0] == '\'' {
		return line
	}
	return line[:at] + `"` + strings.ReplaceAll(strings.ReplaceAll(value, `\`, `\\`), `"`, `\"`) + `"`
}
