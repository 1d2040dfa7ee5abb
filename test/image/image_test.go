package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var created = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// fixture writes stand-in binaries: the builder copies bytes, so there is
// no need to cross-compile anything for tests of the image's shape.
func fixture(t *testing.T) []Binary {
	t.Helper()
	dir := t.TempDir()
	var bins []Binary
	for _, arch := range []string{"amd64", "arm64"} {
		path := filepath.Join(dir, "nodewright-"+arch)
		if err := os.WriteFile(path, []byte("#!fixture "+arch+"\n"+strings.Repeat("x", 4096)), 0o755); err != nil {
			t.Fatal(err)
		}
		bins = append(bins, Binary{Platform: v1.Platform{OS: "linux", Architecture: arch}, Path: path})
	}
	return bins
}

func buildInto(t *testing.T, bins []Binary, version string) (string, v1.Hash) {
	t.Helper()
	idx, err := Build(Options{Binaries: bins, Version: version, Revision: "0123456789abcdef", Created: created})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "image")
	digest, err := WriteLayout(dir, idx, version)
	if err != nil {
		t.Fatalf("WriteLayout: %v", err)
	}
	return dir, digest
}

func TestSameCommitSameDigest(t *testing.T) {
	bins := fixture(t)
	dirA, a := buildInto(t, bins, "0.1.0")
	dirB, b := buildInto(t, bins, "0.1.0")
	if a != b {
		t.Fatalf("two builds of the same inputs: %s and %s", a, b)
	}
	for _, dir := range []string{dirA, dirB} {
		data, err := os.ReadFile(filepath.Join(dir, DigestFile))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(data); got != a.String()+"\n" {
			t.Errorf("%s/digest = %q, want %q", dir, got, a.String()+"\n")
		}
	}
	if _, c := buildInto(t, bins, "0.1.1"); c == a {
		t.Errorf("a different version stamp gave the same digest %s", c)
	}
}

func TestImageConfig(t *testing.T) {
	dir, digest := buildInto(t, fixture(t), "0.1.0")
	idx, ref, err := ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ref != "0.1.0" {
		t.Errorf("layout ref name %q, want 0.1.0", ref)
	}
	if d, _ := idx.Digest(); d != digest {
		t.Errorf("layout index %s, WriteLayout said %s", d, digest)
	}
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("index media type %s", mt)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, desc := range m.Manifests {
		platforms = append(platforms, desc.Platform.String())
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
			t.Errorf("%s: manifest media type %s", desc.Platform, mt)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != desc.Platform.OS || cf.Architecture != desc.Platform.Architecture {
			t.Errorf("%s: config says %s/%s", desc.Platform, cf.OS, cf.Architecture)
		}
		if got := cf.Config.User; got != "65532:65532" {
			t.Errorf("%s: user %q, want numeric non-root 65532:65532", desc.Platform, got)
		}
		if got := strings.Join(cf.Config.Entrypoint, " "); got != "/nodewright" {
			t.Errorf("%s: entrypoint %q", desc.Platform, got)
		}
		if !cf.Created.Time.Equal(created) {
			t.Errorf("%s: created %s, want %s", desc.Platform, cf.Created.Time, created)
		}
		for k, want := range map[string]string{LabelSource: DefaultSource, LabelVersion: "0.1.0", LabelRevision: "0123456789abcdef", LabelCreated: "2026-12-01T12:00:00Z"} {
			if got := cf.Config.Labels[k]; got != want {
				t.Errorf("%s: label %s = %q, want %q", desc.Platform, k, got, want)
			}
		}
		layers, err := img.Layers()
		if err != nil || len(layers) != 1 {
			t.Fatalf("%s: %d layers, err %v", desc.Platform, len(layers), err)
		}
	}
	if got := strings.Join(platforms, ","); got != "linux/amd64,linux/arm64" {
		t.Errorf("platforms %s", got)
	}
}
