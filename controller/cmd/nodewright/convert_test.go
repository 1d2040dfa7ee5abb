package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestConvertCmd(t *testing.T) {
	const fixture = "../../convert/testdata/karpenter/v1alpha5-spot.yaml"
	run := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := convertCmd(args, strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	out, stderr, err := run("-f", fixture)
	if err == nil || !strings.Contains(err.Error(), "--allow-lossy") {
		t.Errorf("a lossy conversion must fail naming --allow-lossy, got %v", err)
	}
	if !strings.Contains(stderr, "placeholder ${CLUSTER_NAME} is not resolved") || !strings.Contains(out, `resource "nodewright_node_pool" "default"`) {
		t.Errorf("stderr %q / stdout %q", stderr, out)
	}
	if _, _, err := run("-f", fixture, "--allow-lossy"); err != nil {
		t.Errorf("--allow-lossy: %v", err)
	}
	// Placeholders set and a role given, only the AL2 default (v1alpha1's,
	// which EKS no longer publishes) still loses meaning.
	out, stderr, err = run("-f", fixture, "--set", "CLUSTER_NAME=prod", "--role", "KarpenterNodeRole-prod", "--allow-lossy", "--output", "yaml")
	if err != nil || strings.Count(stderr, "lossy:") != 1 || !strings.Contains(stderr, "AL2 became AL2023") || !strings.Contains(out, "karpenter.sh/discovery: prod") {
		t.Errorf("with --set and --role: err %v, stderr %q, stdout %q", err, stderr, out)
	}
	var in bytes.Buffer
	in.WriteString("apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: a}\nspec: {template: {spec: {nodeClassRef: {name: c}}}}\n")
	var stdout, errOut bytes.Buffer
	if err := convertCmd([]string{"-f", "-"}, &in, &stdout, &errOut); err != nil || !strings.Contains(stdout.String(), `name       = "a"`) {
		t.Errorf("stdin: %v %q", err, stdout.String())
	}
	if _, _, err := run("-f", fixture, "--set", "novalue"); err == nil {
		t.Error("--set without = must fail")
	}
	if _, _, err := run("-f", fixture, "--output", "json"); err == nil || !strings.Contains(err.Error(), "hcl or yaml") {
		t.Errorf("--output json: %v", err)
	}
	out, _, err = run("-f", fixture, "--allow-lossy", "--hcl-style", "module", "--module-source", "./modules/node-pool")
	if err != nil || !strings.Contains(out, `module "default" {`) || !strings.Contains(out, `= "./modules/node-pool"`) || strings.Contains(out, "resource ") {
		t.Errorf("--hcl-style module: %v\n%s", err, out)
	}
	if _, _, err := run("-f", fixture, "--hcl-style", "modules"); err == nil || !strings.Contains(err.Error(), "resources or module") {
		t.Errorf("--hcl-style modules: %v", err)
	}
}
