package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gruntwork-io/terratest/modules/terraform"

	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/release"
)

// TestModuleTests runs each module's .tftest.hcl files (`terraform test`,
// with a mocked provider) on a copy of the module.
func TestModuleTests(t *testing.T) {
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tfBin := release.TerraformBinary(t)
	modules, _ := filepath.Glob(filepath.Join(root, "modules", "*"))
	for _, mod := range modules {
		t.Run(filepath.Base(mod), func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, mod, dir)
			opts := &terraform.Options{TerraformDir: dir, TerraformBinary: tfBin, NoColor: true,
				EnvVars: providerEnv(t)}
			terraform.Init(t, opts)
			out := terraform.RunTerraformCommand(t, opts, "test", "-no-color")
			if !strings.Contains(out, " 0 failed") {
				t.Errorf("terraform test in %s:\n%s", mod, out)
			}
		})
	}
}

// TestModuleLocalTests runs each module's tests/local/*.tftest.hcl, which
// apply the module with the real provider against a local cloud, assert on
// outputs and resource attributes, and destroy what they applied. The cloud's
// endpoints go in as a variables file; AWS_ENDPOINT_URL and AWS_REGION are
// left out of the environment so that only the variables can point the
// provider at the cloud.
func TestModuleLocalTests(t *testing.T) {
	if testing.Short() {
		t.Skip("applies the modules to a local cloud")
	}
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tfBin := release.TerraformBinary(t)
	cloud := localcloud.Start(t)

	// The node-pool tests apply ../nodewright first: copy all the modules.
	dir := t.TempDir()
	copyTree(t, filepath.Join(root, "modules"), filepath.Join(dir, "modules"))
	vars := filepath.Join(dir, "cloud.tfvars")
	content := fmt.Sprintf("aws_endpoint = %q\nregion       = %q\nkubeconfig   = %q\ncluster_name = %q\n",
		cloud.AWSEndpoint(), cloud.Region(), cloud.Kubeconfig, cloud.ClusterName())
	if err := os.WriteFile(vars, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	env := providerEnv(t)
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_ACCESS_KEY_ID": localcloud.AccessKeyID, "AWS_SECRET_ACCESS_KEY": localcloud.SecretAccessKey} {
		env[k] = v
	}

	// One module at a time: both install the CRDs and run the controller.
	for _, name := range []string{"nodewright", "node-pool"} {
		t.Run(name, func(t *testing.T) {
			opts := &terraform.Options{TerraformDir: filepath.Join(dir, "modules", name), TerraformBinary: tfBin, NoColor: true, EnvVars: env}
			terraform.RunTerraformCommand(t, opts, "init", "-input=false", "-no-color", "-test-directory=tests/local")
			start := time.Now()
			out, err := terraform.RunTerraformCommandE(t, opts, "test", "-no-color", "-test-directory=tests/local", "-var-file="+vars)
			t.Logf("%s test -test-directory=tests/local took %s", filepath.Base(tfBin), time.Since(start).Round(100*time.Millisecond))
			if err != nil || !strings.Contains(out, "Success!") || !strings.Contains(out, " 0 failed") {
				t.Fatalf("local tests of modules/%s failed: %v\n%s", name, err, out)
			}
		})
	}
	// `terraform test` destroys each file's resources when the file ends.
	assertNothingLeft(t, cloud)
}
