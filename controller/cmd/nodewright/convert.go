package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nodewright/nodewright/controller/convert"
)

const convertUsage = `usage: nodewright convert -f FILE|DIR|- [flags]

Converts Karpenter's objects (karpenter.sh/v1alpha5 Provisioners with
karpenter.k8s.aws/v1alpha1 AWSNodeTemplates, and v1beta1 and v1 NodePools
with EC2NodeClasses, in any mix, as multi-document YAML, Lists or Helm
output) into nodewright's: Terraform resources (nodewright_node_class,
nodewright_node_pool) by default, calls of the node-pool module
(--hcl-style module), or NodePools and EC2NodeClasses (--output yaml). What has no
equivalent, or changes meaning, is written as a comment beside the output
and listed on stderr. A conversion that loses meaning exits 1 unless
--allow-lossy is given.

flags:
`

// setFlags collects repeated --set NAME=VALUE.
type setFlags map[string]string

func (s setFlags) String() string { return "" }

func (s setFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("--set takes NAME=VALUE, not %q", v)
	}
	s[name] = value
	return nil
}

// conversionFlags are the flags convert and migrate share.
type conversionFlags struct {
	output       *string
	allowLossy   *bool
	role         *string
	module       *string
	hclStyle     *string
	moduleSource *string
	set          setFlags
}

func addConversionFlags(fs *flag.FlagSet) *conversionFlags {
	c := &conversionFlags{set: setFlags{}}
	c.output = fs.String("output", "hcl", "hcl: nodewright_node_class and nodewright_node_pool resources, for a configuration that calls modules/nodewright; yaml: nodewright.dev/v1 objects")
	c.hclStyle = fs.String("hcl-style", "resources", "with --output hcl: resources writes nodewright_node_class and nodewright_node_pool resources; module writes a call of the node-pool module per NodePool, with a nodewright_node_class resource for each class the module's variables cannot say")
	c.moduleSource = fs.String("module-source", convert.DefaultModuleSource, "with --hcl-style module: the node-pool module's source")
	c.allowLossy = fs.Bool("allow-lossy", false, "exit 0 even when the conversion loses meaning")
	c.role = fs.String("role", "", "node IAM role for node classes that name neither a role nor an instance profile")
	c.module = fs.String("module", "nodewright", "with --output hcl: the name of the module block that calls modules/nodewright; resources wait for it, and classes without a role or --role take its node role (empty: neither)")
	fs.Var(c.set, "set", "NAME=VALUE gives a placeholder its value: ${NAME}, or a Helm expression's last field ({{ .Values.NAME }}); repeatable")
	return c
}

func (c *conversionFlags) options() convert.Options {
	opts := convert.Options{Set: c.set, Role: *c.role}
	if *c.output == "hcl" {
		opts.Module = *c.module
	}
	return opts
}

// validate checks the flags' values before anything is read.
func (c *conversionFlags) validate() error {
	if *c.output != "hcl" && *c.output != "yaml" {
		return fmt.Errorf("--output must be hcl or yaml, not %q", *c.output)
	}
	if *c.hclStyle != "resources" && *c.hclStyle != "module" {
		return fmt.Errorf("--hcl-style must be resources or module, not %q", *c.hclStyle)
	}
	return nil
}

// write prints the conversion to out and its findings to errOut, and
// fails a lossy one unless --allow-lossy.
func (c *conversionFlags) write(res *convert.Result, out, errOut io.Writer) error {
	if err := c.validate(); err != nil {
		return err
	}
	write := convert.WriteYAML
	if *c.output == "hcl" {
		write = convert.WriteHCL
		if *c.hclStyle == "module" {
			write = func(w io.Writer, res *convert.Result) error { return convert.WriteHCLModules(w, res, *c.moduleSource) }
		}
	}
	if err := write(out, res); err != nil {
		return err
	}
	for _, f := range res.Findings {
		fmt.Fprintln(errOut, f)
	}
	if res.Lossy() && !*c.allowLossy {
		return errors.New("the conversion loses meaning (lossy findings above); fix the input, or pass --allow-lossy to accept it")
	}
	return nil
}

func convertCmd(args []string, in io.Reader, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	file := fs.String("f", "", "a file, a directory (its *.yaml, *.yml and *.json files), or - for standard input")
	conv := addConversionFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), convertUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" {
		return errors.New("-f is required: a file, a directory, or - for standard input")
	}
	if err := conv.validate(); err != nil {
		return err
	}
	data, err := readInput(*file, in)
	if err != nil {
		return err
	}
	res, err := convert.Convert(data, conv.options())
	if err != nil {
		return err
	}
	return conv.write(res, out, errOut)
}

// readInput reads -f: standard input, one file, or a directory's YAML and
// JSON files in name order, joined as documents.
func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return os.ReadFile(path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".yaml", ".yml", ".json":
			if !e.IsDir() {
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	var all []byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(path, n))
		if err != nil {
			return nil, err
		}
		all = append(append(all, "\n---\n"...), b...)
	}
	return all, nil
}
