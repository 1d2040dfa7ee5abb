package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// dist is one release for the host platform, with a fake controller image,
// shared by this package's tests.
var dist TestDist

const fakeDigest = "sha256:4b3c9a5e0f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f30123456789ab"

func TestMain(m *testing.M) {
	img, err := os.MkdirTemp("", "nodewright-image-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := writeFakeLayout(img); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dist.ImageDir = img
	code := m.Run()
	dist.Remove()
	os.RemoveAll(img)
	os.Exit(code)
}

// writeFakeLayout writes the shape `make image` produces: an OCI image
// layout and a digest file beside it.
func writeFakeLayout(dir string) error {
	files := map[string]string{
		"oci-layout": `{"imageLayoutVersion":"1.0.0"}`,
		"index.json": `{"schemaVersion":2,"manifests":[]}`,
		"blobs/sha256/" + strings.TrimPrefix(fakeDigest, "sha256:"): `{}`,
		"digest": fakeDigest + "\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func TestParsePlatforms(t *testing.T) {
	cases := []struct {
		in      string
		want    []Platform
		wantErr bool
	}{
		{in: "linux_amd64", want: []Platform{{"linux", "amd64"}}},
		{in: "linux_amd64, windows_arm64", want: []Platform{{"linux", "amd64"}, {"windows", "arm64"}}},
		{in: "all", want: AllPlatforms},
		{in: "host", want: []Platform{HostPlatform()}},
		{in: "linux", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, c := range cases {
		got, err := ParsePlatforms(c.in)
		if (err != nil) != c.wantErr || !c.wantErr && !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParsePlatforms(%q) = %v, %v; want %v (error: %v)", c.in, got, err, c.want, c.wantErr)
		}
	}
}

func TestSHA256SUMSRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "SUMS")
	in := map[string]string{"b.zip": strings.Repeat("b", 64), "a.zip": strings.Repeat("a", 64)}
	if err := os.WriteFile(p, formatSums(in), 0o644); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if want := strings.Repeat("a", 64) + "  a.zip\n" + strings.Repeat("b", 64) + "  b.zip\n"; string(b) != want {
		t.Errorf("SHA256SUMS is\n%s\nwant\n%s", b, want)
	}
	out, err := ReadSHA256SUMS(p)
	if err != nil || !reflect.DeepEqual(out, in) {
		t.Errorf("ReadSHA256SUMS = %v, %v; want %v", out, err, in)
	}
}

// TestReleaseLayout: the release has the registry's file names, a zip
// holding only the executable, the manifest, checksums of both, the image
// archive and digest; the provider defaults to that digest; and a second
// build is byte for byte the same.
func TestReleaseLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds the provider")
	}
	dir := dist.Dir(t)
	host := HostPlatform()
	prefix := ProviderName + "_" + TestVersion
	zipName := prefix + "_" + host.String() + ".zip"

	// 1. File names.
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{ImageName + "_" + TestVersion + ".digest", ImageName + "_" + TestVersion + ".oci.tar",
		prefix + "_SHA256SUMS", prefix + "_" + host.String() + ".zip", prefix + "_manifest.json"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("dist holds %v, want %v", names, want)
	}

	// 2. The zip: one executable, the registry's name, fixed time, and the
	// image digest compiled in.
	zr, err := zip.OpenReader(filepath.Join(dir, zipName))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	bin := ProviderName + "_v" + TestVersion
	if host.OS == "windows" {
		bin += ".exe"
	}
	if len(zr.File) != 1 || zr.File[0].Name != bin || zr.File[0].Mode().Perm() != 0o755 || !zr.File[0].Modified.Equal(Epoch) {
		f := zr.File[0]
		t.Fatalf("zip holds %d files, first %s %v %s; want only %s 0755 %s", len(zr.File), f.Name, f.Mode(), f.Modified, bin, Epoch)
	}
	rc, _ := zr.File[0].Open()
	exe, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Contains(exe, []byte(fakeDigest)) {
		t.Errorf("the provider binary does not contain the image digest %s", fakeDigest)
	}

	// 3. Manifest and checksums.
	if b, _ := os.ReadFile(filepath.Join(dir, prefix+"_manifest.json")); string(b) != Manifest {
		t.Errorf("manifest is %q", b)
	}
	sums, err := ReadSHA256SUMS(filepath.Join(dir, prefix+"_SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{zipName, prefix + "_manifest.json"} {
		got, _ := fileSHA256(filepath.Join(dir, n))
		if sums[n] != got {
			t.Errorf("SHA256SUMS has %q for %s, the file hashes to %s", sums[n], n, got)
		}
	}
	if len(sums) != 2 {
		t.Errorf("SHA256SUMS lists %d files, want the zip and the manifest", len(sums))
	}

	// 4. The image: the layout without the digest file, and the digest.
	if b, _ := os.ReadFile(filepath.Join(dir, ImageName+"_"+TestVersion+".digest")); string(b) != fakeDigest+"\n" {
		t.Errorf("image digest file holds %q", b)
	}
	f, err := os.Open(filepath.Join(dir, ImageName+"_"+TestVersion+".oci.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var members []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(Epoch) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: time %s, owner %d:%d; want %s, 0:0", h.Name, h.ModTime, h.Uid, h.Gid, Epoch)
		}
		members = append(members, h.Name)
	}
	wantMembers := []string{"blobs/", "blobs/sha256/", "blobs/sha256/" + strings.TrimPrefix(fakeDigest, "sha256:"), "index.json", "oci-layout"}
	if !reflect.DeepEqual(members, wantMembers) {
		t.Errorf("image archive holds %v, want %v", members, wantMembers)
	}

	// 5. A second build gives the same bytes.
	again := t.TempDir()
	root, _ := RepoRoot()
	if _, err := Build(context.Background(), Options{Version: TestVersion, Platforms: []Platform{host}, Root: root, OutDir: again, ImageDir: dist.ImageDir, DevBuild: true}); err != nil {
		t.Fatal(err)
	}
	for _, n := range want {
		a, _ := os.ReadFile(filepath.Join(dir, n))
		b, _ := os.ReadFile(filepath.Join(again, n))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds of the same source", n)
		}
	}
}

// TestBuildWithoutImage: with no image layout the release is the provider
// alone, and says so.
func TestBuildWithoutImage(t *testing.T) {
	out := t.TempDir()
	var log bytes.Buffer
	// No platforms to build: this checks only the image step and the files
	// written around the zips.
	res, err := Build(context.Background(), Options{Version: TestVersion, Root: ".", OutDir: out, ImageDir: filepath.Join(out, "absent"), Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if res.ImageDigest != "" || !strings.Contains(log.String(), "skipping the controller image") {
		t.Errorf("digest %q, log %q", res.ImageDigest, log.String())
	}
	if _, err := os.Stat(res.SHA256SUMS); err != nil {
		t.Error(err)
	}
}

// TestMirrorInstall: terraform (or tofu) init installs the provider from the
// release zips through the loopback HTTPS network mirror, checks it against
// the served hashes, and records the h1: hash in the lock file.
func TestMirrorInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the provider and runs terraform init")
	}
	tf := TerraformBinary(t)
	m := ServeMirror(t, dist.Dir(t))
	dir := writeConfig(t)
	out, err := initDir(t, tf, dir, m)
	if err != nil {
		t.Fatalf("%s init: %v\n%s", filepath.Base(tf), err, out)
	}
	hashes := CheckLock(t, dir, m.Archives, TestVersion)
	t.Logf("lock file records %v", hashes)
	var zip bool
	for _, p := range m.Requests() {
		zip = zip || strings.HasSuffix(p, ".zip")
	}
	if !zip {
		t.Errorf("init did not download a zip from the mirror: %v", m.Requests())
	}
}

// TestMirrorRejectsTamperedZip: a zip that no longer matches the hashes the
// mirror published is refused by init.
func TestMirrorRejectsTamperedZip(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the provider and runs terraform init")
	}
	tf := TerraformBinary(t)
	src := dist.Dir(t)
	copyDir := t.TempDir()
	prefix := ProviderName + "_" + TestVersion
	zipName := prefix + "_" + HostPlatform().String() + ".zip"
	for _, n := range []string{zipName, prefix + "_SHA256SUMS"} {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(copyDir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := ServeMirror(t, copyDir)
	// Swap the executable for another after the hashes were published.
	if err := writeZip(filepath.Join(copyDir, zipName), filepath.Join(copyDir, prefix+"_SHA256SUMS"), ProviderName+"_v"+TestVersion, Epoch); err != nil {
		t.Fatal(err)
	}
	dir := writeConfig(t)
	out, err := initDir(t, tf, dir, m)
	if err == nil {
		t.Fatalf("init accepted a tampered provider zip:\n%s", out)
	}
	if !strings.Contains(out, "checksum") {
		t.Errorf("init failed, but not on the checksum:\n%s", out)
	}
	t.Logf("%s init refused the tampered zip:\n%s", filepath.Base(tf), out)
}

func writeConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := `terraform {
  required_providers {
    nodewright = {
      source  = "nodewright/nodewright"
      version = "` + TestVersion + `"
    }
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func initDir(t *testing.T, tf, dir string, m *Mirror) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tf, "init", "-input=false", "-no-color")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "TF_PLUGIN_CACHE_DIR=")
	for k, v := range m.Env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}
