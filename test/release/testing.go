package release

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nodewright/nodewright/terraform-provider/tools/providerdocs"
)

// TestVersion is the version test releases are built as: the one `make
// provider` builds, which the examples and modules accept.
const TestVersion = "0.1.0"

// TestDist is a release built for the host platform only, once per test
// binary, for tests that install the provider the way users do. Declare one
// per package and call Remove from TestMain after m.Run.
type TestDist struct {
	// ImageDir, when set before the first Dir, is the OCI layout the
	// release archives and the provider defaults to.
	ImageDir string

	once sync.Once
	dir  string
	err  error
}

// Dir builds the release on first use (a minute or so cold, seconds with a
// warm build cache) and returns its directory.
func (d *TestDist) Dir(t testing.TB) string {
	t.Helper()
	d.once.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			d.err = err
			return
		}
		if d.dir, err = os.MkdirTemp("", "nodewright-dist-"); err != nil {
			d.err = err
			return
		}
		_, d.err = Build(context.Background(), Options{Version: TestVersion, Platforms: []Platform{HostPlatform()}, Root: root, OutDir: d.dir, ImageDir: d.ImageDir, DevBuild: true})
	})
	if d.err != nil {
		t.Fatalf("building the provider release for %s: %v", HostPlatform(), d.err)
	}
	return d.dir
}

// Remove deletes the release, if one was built.
func (d *TestDist) Remove() {
	if d.dir != "" {
		os.RemoveAll(d.dir)
	}
}

var lockBlockRE = regexp.MustCompile(`(?s)provider "([^"]+/nodewright/nodewright)" \{(.*?)\n\}`)

// CheckLock asserts that terraform init in dir recorded nodewright's
// provider in .terraform.lock.hcl at version with the h1: hash the mirror
// served for the host platform (archives as in Mirror.Archives): terraform
// checked the package it installed against that hash. It returns the hashes
// recorded.
func CheckLock(t testing.TB, dir string, archives map[string]map[string]Archive, version string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ".terraform.lock.hcl"))
	if err != nil {
		t.Fatalf("terraform init left no lock file: %v", err)
	}
	match := lockBlockRE.FindStringSubmatch(string(b))
	if match == nil {
		t.Fatalf("the lock file does not record nodewright/nodewright:\n%s", b)
	}
	body := match[2]
	if !strings.Contains(body, `version     = "`+version+`"`) && !strings.Contains(body, `version = "`+version+`"`) {
		t.Errorf("the lock file records %s at another version than %s:\n%s", match[1], version, body)
	}
	archive, ok := archives[version][HostPlatform().String()]
	if !ok {
		t.Fatalf("the mirror serves no %s archive for %s", version, HostPlatform())
	}
	recorded := regexp.MustCompile(`"((?:h1|zh):[^"]+)"`).FindAllStringSubmatch(body, -1)
	var hashes []string
	for _, r := range recorded {
		hashes = append(hashes, r[1])
	}
	if !slices.Contains(hashes, archive.Hashes[0]) {
		t.Errorf("the lock file records %v for %s, not the served %s:\n%s", hashes, match[1], archive.Hashes[0], body)
	}
	return hashes
}

// TerraformBinary is the terraform or tofu tests drive, chosen as the docs
// choose it (providerdocs.TerraformBinary); it must exist.
func TerraformBinary(t testing.TB) string {
	t.Helper()
	p := providerdocs.TerraformBinary()
	if _, err := exec.LookPath(p); err != nil {
		t.Fatalf("no terraform or tofu (%v): set TF_BINARY or put one on PATH", err)
	}
	return p
}
