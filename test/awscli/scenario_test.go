package awscli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

// A scenario is a sequence of CLI calls against an emulator of its own:
// a resource's life, say, from create through use to delete. Later steps
// use what earlier ones saved. Scenarios run in parallel.
type scenario struct {
	name string
	// setup, when set, configures the emulator and may seed variables.
	setup func(t *testing.T, vars map[string]string) awsemu.Options
	// seed, when set, puts what no API call creates into the running
	// emulator, through its admin API.
	seed  func(t *testing.T, srv *awsemu.Server, vars map[string]string)
	steps []step
}

// A step is one CLI call. Its arguments, and the values its checks
// compare with, may name saved variables as {name}.
type step struct {
	// name of the subtest; the operation when empty.
	name string
	// service is the CLI command, which is also the emulator's service name.
	service string
	// op is the API operation; the CLI subcommand is its botocore xform_name.
	op   string
	args []string
	// as names credentials saved as <as>.id, <as>.secret and <as>.token
	// (which may name other variables); empty signs as the administrator.
	as string
	// want checks the parsed output. Empty, the operation must print
	// nothing (AWS's answer has no output members).
	want []check
	// save stores values of the output, variable -> path.
	save map[string]string
	// err is the error code the call must fail with; then want is unused.
	err string
	// saveErr stores the first group of a regexp matched against stderr.
	saveErr map[string]*regexp.Regexp
}

func (st step) title() string {
	if st.name != "" {
		return st.name
	}
	return st.op
}

// runScenarios runs each scenario in parallel, its steps in order. A step
// that failed to save what later steps need ends its scenario; any other
// failure is reported and the scenario goes on.
func runScenarios(t *testing.T, scenarios []scenario) {
	cli := cliFor(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{"account": awsemu.AccountID}
			var opts awsemu.Options
			if sc.setup != nil {
				opts = sc.setup(t, vars)
			}
			srv := awsemu.NewForTest(t, opts)
			if sc.seed != nil {
				sc.seed(t, srv, vars)
			}
			for _, st := range sc.steps {
				for _, name := range st.saves() {
					delete(vars, name)
				}
				skipped := false
				t.Run(st.title(), func(t *testing.T) {
					defer func() { skipped = t.Skipped() }()
					st.run(t, cli, srv.URL, vars)
				})
				for _, name := range st.saves() {
					if _, ok := vars[name]; ok {
						continue
					}
					if skipped {
						t.Skipf("skipping the rest: later steps need {%s}, which %s did not save", name, st.title())
					}
					t.Fatalf("stopping: later steps need {%s}, which %s did not save", name, st.title())
				}
			}
		})
	}
}

// saves lists the variables the step saves.
func (st step) saves() []string {
	var names []string
	for name := range st.save {
		names = append(names, name)
	}
	for name := range st.saveErr {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func (st step) run(t *testing.T, cli *awsCLI, endpoint string, vars map[string]string) {
	x := expander(vars)
	args := []string{st.service, xformName(st.op)}
	for _, a := range st.args {
		args = append(args, x(a))
	}
	cr := admin
	if st.as != "" {
		cr = creds{id: x(vars[st.as+".id"]), secret: x(vars[st.as+".secret"]), token: x(vars[st.as+".token"])}
	}
	out := cli.run(t, endpoint, cr, args...)
	out.skipUnknownCommand(t, cli)
	if st.err != "" {
		out.wantError(t, cli, st.op, st.err)
		for name, re := range st.saveErr {
			m := re.FindStringSubmatch(out.stderr)
			if m == nil {
				t.Fatalf("%s: stderr does not match %s:\n%s", out.cmd, re, out.stderr)
			}
			vars[name] = m[1]
		}
		return
	}
	if out.code != 0 {
		t.Fatalf("%s: exit %d\n%s", out.cmd, out.code, out.stderr)
	}
	doc, err := out.doc()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.want) == 0 && doc != nil {
		t.Errorf("%s: printed output, want none:\n%s", out.cmd, out.stdout)
	}
	if len(st.want) > 0 && doc == nil {
		t.Fatalf("%s: printed nothing", out.cmd)
	}
	for _, c := range st.want {
		if err := c.fn(doc, x); err != nil {
			t.Errorf("%s: %s: %v\n%s", out.cmd, c.desc, err, out.stdout)
		}
	}
	for name, path := range st.save {
		v, err := lookupOne(doc, path)
		if err != nil {
			t.Fatalf("%s: saving %s: %v\n%s", out.cmd, name, err, out.stdout)
		}
		vars[name] = v
	}
}

// expander replaces {name} with saved variables.
func expander(vars map[string]string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, "{") {
			return s
		}
		pairs := make([]string, 0, 2*len(vars))
		for k, v := range vars {
			pairs = append(pairs, "{"+k+"}", v)
		}
		return strings.NewReplacer(pairs...).Replace(s)
	}
}

func noVars(s string) string { return s }

// jsonString quotes s as a JSON string, for a document inside another.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// ---- checks on parsed output ----

// A check is one assertion on a parsed output document. Paths are
// dot-separated: map keys, list indices, and * for every element of a
// list or value of a map.
type check struct {
	desc string
	fn   func(doc any, x func(string) string) error
}

// eq: every value at path (at least one) is want.
func eq(path, want string) check {
	return check{path + " = " + want, func(doc any, x func(string) string) error {
		vals, err := lookup(doc, path)
		if err != nil {
			return err
		}
		for _, v := range vals {
			if s := format(v); s != x(want) {
				return fmt.Errorf("got %q, want %q", s, x(want))
			}
		}
		return nil
	}}
}

// some: one of the values at path is want.
func some(path, want string) check {
	return check{"some " + path + " = " + want, func(doc any, x func(string) string) error {
		vals, err := lookup(doc, path)
		if err != nil {
			return err
		}
		var got []string
		for _, v := range vals {
			if format(v) == x(want) {
				return nil
			}
			got = append(got, format(v))
		}
		return fmt.Errorf("got %q, none %q", got, x(want))
	}}
}

// none: no value at path is want (there may be no value at all).
func none(path, want string) check {
	return check{"no " + path + " = " + want, func(doc any, x func(string) string) error {
		vals, _ := lookup(doc, path)
		for _, v := range vals {
			if format(v) == x(want) {
				return fmt.Errorf("found %q", x(want))
			}
		}
		return nil
	}}
}

// matches: every value at path (at least one) matches the regexp.
func matches(path, pattern string) check {
	re := regexp.MustCompile(pattern)
	return check{path + " ~ " + pattern, func(doc any, _ func(string) string) error {
		vals, err := lookup(doc, path)
		if err != nil {
			return err
		}
		for _, v := range vals {
			if !re.MatchString(format(v)) {
				return fmt.Errorf("got %q", format(v))
			}
		}
		return nil
	}}
}

// count: the list or map at path has n elements.
func count(path string, n int) check {
	return check{fmt.Sprintf("len(%s) = %d", path, n), func(doc any, _ func(string) string) error {
		got, err := length(doc, path)
		if err != nil {
			return err
		}
		if got != n {
			return fmt.Errorf("got %d", got)
		}
		return nil
	}}
}

// atLeast: the list or map at path has n elements or more.
func atLeast(path string, n int) check {
	return check{fmt.Sprintf("len(%s) >= %d", path, n), func(doc any, _ func(string) string) error {
		got, err := length(doc, path)
		if err != nil {
			return err
		}
		if got < n {
			return fmt.Errorf("got %d", got)
		}
		return nil
	}}
}

// absent: nothing is at path (the CLI omits members AWS leaves out).
func absent(path string) check {
	return check{path + " absent", func(doc any, _ func(string) string) error {
		if vals, err := lookup(doc, path); err == nil {
			return fmt.Errorf("got %v", vals)
		}
		return nil
	}}
}

// inJSON: every value at path is a string holding a JSON document (a
// policy, a price list entry, an event), on which the inner checks hold.
func inJSON(path string, inner ...check) check {
	return check{path + " as JSON", func(doc any, x func(string) string) error {
		vals, err := lookup(doc, path)
		if err != nil {
			return err
		}
		for _, v := range vals {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("got %T, want a string of JSON", v)
			}
			var nested any
			if err := json.Unmarshal([]byte(s), &nested); err != nil {
				return fmt.Errorf("not JSON: %v: %s", err, s)
			}
			for _, c := range inner {
				if err := c.fn(nested, x); err != nil {
					return fmt.Errorf("%s: %w", c.desc, err)
				}
			}
		}
		return nil
	}}
}

func length(doc any, path string) (int, error) {
	vals, err := lookup(doc, path)
	if err != nil {
		return 0, err
	}
	if len(vals) != 1 {
		return 0, fmt.Errorf("%d values at %s", len(vals), path)
	}
	switch v := vals[0].(type) {
	case []any:
		return len(v), nil
	case map[string]any:
		return len(v), nil
	}
	return 0, fmt.Errorf("%s is a %T, not a list or map", path, vals[0])
}

// lookup returns the values at path; an error when there are none.
func lookup(doc any, path string) ([]any, error) {
	vals := []any{doc}
	for _, seg := range strings.Split(path, ".") {
		var next []any
		for _, v := range vals {
			switch v := v.(type) {
			case map[string]any:
				if seg == "*" {
					keys := make([]string, 0, len(v))
					for k := range v {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						next = append(next, v[k])
					}
				} else if e, ok := v[seg]; ok {
					next = append(next, e)
				}
			case []any:
				if seg == "*" {
					next = append(next, v...)
				} else if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(v) {
					next = append(next, v[i])
				}
			}
		}
		if len(next) == 0 {
			return nil, fmt.Errorf("nothing at %s (at %s)", path, seg)
		}
		vals = next
	}
	return vals, nil
}

// lookupOne returns the single value at path, formatted.
func lookupOne(doc any, path string) (string, error) {
	vals, err := lookup(doc, path)
	if err != nil {
		return "", err
	}
	if len(vals) != 1 {
		return "", fmt.Errorf("%d values at %s, want one", len(vals), path)
	}
	return format(vals[0]), nil
}

// format renders a JSON value as the CLI's text output would.
func format(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
