package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodewright/nodewright/test/localcloud"
)

// InterruptionQueue creates the interruption queue and its EventBridge
// rules as users do: a one-resource configuration applied by terraform with
// the provider from the mirror `make provider` builds, against the local
// cloud. It returns the queue's URL.
func InterruptionQueue(t testing.TB, cloud *localcloud.Cloud, queueName string) string {
	t.Helper()
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(root, "bin", "terraform.rc")
	if _, err := os.Stat(rc); err != nil {
		t.Fatalf("no provider mirror (%v): run make provider", err)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`terraform {
  required_providers {
    nodewright = { source = "nodewright/nodewright" }
  }
}
provider "nodewright" {}
resource "nodewright_interruption_queue" "this" {
  name         = %q
  cluster_name = %q
}
output "url" { value = nodewright_interruption_queue.this.queue_url }
`, queueName, cloud.ClusterName())
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		cmd := exec.Command("terraform", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), cloud.AWSEnv()...)
		cmd.Env = append(cmd.Env, "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	start := time.Now()
	run("init", "-input=false", "-no-color")
	run("apply", "-auto-approve", "-input=false", "-no-color")
	url := strings.TrimSpace(run("output", "-raw", "url"))
	t.Logf("terraform made the interruption queue %s in %s", url, time.Since(start).Round(100*time.Millisecond))
	return url
}
