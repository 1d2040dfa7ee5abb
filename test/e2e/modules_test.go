package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gruntwork-io/terratest/modules/terraform"

	"github.com/nodewright/nodewright/test/localcloud"
)

// TestModuleTests runs each module's .tftest.hcl files (`terraform test`,
// with a mocked provider) on a copy of the module.
func TestModuleTests(t *testing.T) {
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tfBin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tfBin == "" {
		tfBin = "terraform"
	}
	modules, _ := filepath.Glob(filepath.Join(root, "modules", "*"))
	for _, mod := range modules {
		t.Run(filepath.Base(mod), func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, mod, dir)
			opts := &terraform.Options{TerraformDir: dir, TerraformBinary: tfBin, NoColor: true,
				EnvVars: map[string]string{"TF_CLI_CONFIG_FILE": filepath.Join(root, "bin", "terraform.rc")}}
			terraform.Init(t, opts)
			out := terraform.RunTerraformCommand(t, opts, "test", "-no-color")
			if !strings.Contains(out, " 0 failed") {
				t.Errorf("terraform test in %s:\n%s", mod, out)
			}
		})
	}
}
