// Package providerdocs renders terraform-provider/docs with tfplugindocs,
// offline: the provider is built from source into a plugin directory,
// Terraform (or OpenTofu) exports its schema from there, and tfplugindocs
// renders that schema with the snippets in terraform-provider/examples.
// `make docs` writes the docs; the package's test fails when they are stale.
package providerdocs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Options says where the tools and the repository are.
type Options struct {
	// Root is the repository root.
	Root string
	// Terraform is the terraform or tofu binary that exports the schema.
	Terraform string
	// Tfplugindocs is the tfplugindocs binary (`make tools` builds it).
	Tfplugindocs string
	// Out is the directory the docs are rendered into; it is replaced.
	Out string
}

// sourceAddress is spelled out in full so that terraform and tofu find the
// provider under the same plugin directory path.
const (
	sourceAddress = "registry.terraform.io/nodewright/nodewright"
	pluginVersion = "0.1.0"
)

// Generate renders the provider docs into o.Out.
func Generate(ctx context.Context, o Options) error {
	work, err := os.MkdirTemp("", "providerdocs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	schema, err := exportSchema(ctx, o, work)
	if err != nil {
		return err
	}
	schemaPath := filepath.Join(work, "schema.json")
	if err := os.WriteFile(schemaPath, schema, 0o644); err != nil {
		return err
	}

	providerDir := filepath.Join(o.Root, "terraform-provider")
	out, err := filepath.Abs(o.Out)
	if err != nil {
		return err
	}
	// tfplugindocs joins the output directory onto the provider directory.
	rel, err := filepath.Rel(providerDir, out)
	if err != nil {
		return fmt.Errorf("docs directory %s: %w", o.Out, err)
	}
	cmd := exec.CommandContext(ctx, o.Tfplugindocs, "generate",
		"--provider-name", "nodewright",
		"--provider-dir", providerDir,
		"--providers-schema", schemaPath,
		"--rendered-website-dir", rel,
		"--website-temp-dir", filepath.Join(work, "website"),
		"--examples-dir", "examples",
		"--website-source-dir", "templates")
	cmd.Env = offlineEnv(work)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("tfplugindocs generate: %w\n%s", err, b)
	}
	return nil
}

// exportSchema builds the provider into a plugin directory and returns
// `providers schema -json`, keyed by the bare provider name that
// tfplugindocs looks up.
func exportSchema(ctx context.Context, o Options, work string) ([]byte, error) {
	plugins := filepath.Join(work, "plugins")
	bin := filepath.Join(plugins, sourceAddress, pluginVersion, runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-nodewright_v"+pluginVersion)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./terraform-provider")
	build.Dir = o.Root
	if b, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the provider: %w\n%s", err, b)
	}

	cfg := filepath.Join(work, "config")
	if err := os.MkdirAll(cfg, 0o755); err != nil {
		return nil, err
	}
	main := fmt.Sprintf("terraform {\n  required_providers {\n    nodewright = {\n      source = %q\n    }\n  }\n}\n", sourceAddress)
	if err := os.WriteFile(filepath.Join(cfg, "main.tf"), []byte(main), 0o644); err != nil {
		return nil, err
	}
	tf := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, o.Terraform, args...)
		cmd.Dir = cfg
		cmd.Env = offlineEnv(work)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w\n%s%s", filepath.Base(o.Terraform), strings.Join(args, " "), err, out, stderr.Bytes())
		}
		return out, nil
	}
	if _, err := tf("init", "-input=false", "-no-color", "-backend=false", "-plugin-dir="+plugins); err != nil {
		return nil, err
	}
	raw, err := tf("providers", "schema", "-json")
	if err != nil {
		return nil, err
	}

	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("reading the schema: %w", err)
	}
	var schemas map[string]json.RawMessage
	if err := json.Unmarshal(doc["provider_schemas"], &schemas); err != nil {
		return nil, fmt.Errorf("reading the schema's provider_schemas: %w", err)
	}
	ours, ok := schemas[sourceAddress]
	if !ok {
		return nil, fmt.Errorf("no schema for %s in `providers schema -json`", sourceAddress)
	}
	doc["provider_schemas"], err = json.Marshal(map[string]json.RawMessage{"nodewright": ours})
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// offlineEnv keeps terraform, tofu and tfplugindocs from reaching out: no
// user CLI configuration (the plugin directory is the only source), no
// version checkpoint.
func offlineEnv(work string) []string {
	rc := filepath.Join(work, "cli.rc")
	if _, err := os.Stat(rc); err != nil {
		_ = os.WriteFile(rc, nil, 0o644)
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "TF_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
}
