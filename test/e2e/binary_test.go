package e2e

import (
	"os"
	"os/exec"
	"testing"
)

// tfBinary is the terraform or tofu the e2e tests drive: TF_BINARY, then
// TF_ACC_TERRAFORM_PATH (what `make test` sets), then terraform or tofu on
// PATH. `make test-tofu` sets both to bin/tofu.
func tfBinary(t *testing.T) string {
	t.Helper()
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
	t.Fatal("no terraform or tofu: set TF_BINARY or put one on PATH")
	return ""
}
