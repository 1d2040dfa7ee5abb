package providerdocs

import (
	"os"
	"os/exec"
	"path/filepath"
)

// TerraformBinary is the terraform or tofu the docs, the e2e tests and
// `make test-tofu` use: TF_BINARY, then TF_ACC_TERRAFORM_PATH, then
// terraform or tofu on PATH.
func TerraformBinary() string {
	for _, env := range []string{"TF_BINARY", "TF_ACC_TERRAFORM_PATH"} {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	for _, name := range []string{"terraform", "tofu"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return "terraform"
}

// TfplugindocsBinary is TFPLUGINDOCS, or the one `make tools` builds into
// the repository's bin/.
func TfplugindocsBinary(root string) string {
	if v := os.Getenv("TFPLUGINDOCS"); v != "" {
		return v
	}
	return filepath.Join(root, "bin", "tfplugindocs")
}
