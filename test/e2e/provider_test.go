package e2e

import (
	"os"
	"testing"

	"github.com/nodewright/nodewright/test/release"
)

// dist is the provider's release for the host platform, built once for the
// package by the release program: the e2e tests install the provider the
// way users do, from the release zips, checked against their hashes.
var dist release.TestDist

func TestMain(m *testing.M) {
	code := m.Run()
	dist.Remove()
	os.Exit(code)
}

// providerEnv is the environment in which terraform or tofu installs
// nodewright's provider from the release zips through a provider network
// mirror on loopback (HTTPS, trusted through SSL_CERT_FILE), serving
// until the test ends.
func providerEnv(t *testing.T) map[string]string {
	t.Helper()
	env := release.ServeMirror(t, dist.Dir(t)).Env()
	env["TF_IN_AUTOMATION"] = "1"
	return env
}

// checkProviderLock asserts that init in dir locked the provider to the
// h1: hash the mirror served, so the installed package was verified.
func checkProviderLock(t *testing.T, dir string) {
	t.Helper()
	archives, err := release.Archives(dist.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	release.CheckLock(t, dir, archives, release.TestVersion)
}
