// Package release builds nodewright's release artifacts into a dist/
// directory: the Terraform provider in the layout the Terraform Registry and
// `terraform providers mirror` expect (one zip per platform, a SHA256SUMS
// file and the registry manifest), and the controller image as an OCI
// layout archive with its digest.
//
// It stands in for GoReleaser. The Go module proxy here serves goreleaser/v2
// only from an earlier copy that is not an approved release, and what we
// need from it is small: cross-compile one binary, zip it with fixed
// timestamps, hash the zips and write two small files. Written out here, the
// whole release is reproducible (a rerun gives the same SHA256SUMS) and has no
// dependency outside the standard library.
package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

const (
	// ProviderName is the provider binary's name, and the prefix of every
	// provider artifact.
	ProviderName = "terraform-provider-nodewright"
	// ImageName prefixes the controller image's artifacts.
	ImageName = "nodewright-image"

	providerPkg  = "./terraform-provider"
	digestLdflag = "github.com/nodewright/nodewright/terraform-provider/internal/provider.ReleaseImageDigest"
)

// Manifest is the registry manifest: terraform-plugin-framework's
// providerserver.Serve speaks plugin protocol 6.
const Manifest = `{"version":1,"metadata":{"protocol_versions":["6.0"]}}` + "\n"

// Epoch is the modification time of every file in the archives, so that a
// rebuild of the same source gives byte-identical archives. SOURCE_DATE_EPOCH
// (the reproducible-builds convention) overrides it.
var Epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Platform is a GOOS/GOARCH pair, written os_arch as in artifact names.
type Platform struct{ OS, Arch string }

func (p Platform) String() string { return p.OS + "_" + p.Arch }

// AllPlatforms are the platforms a release builds.
var AllPlatforms = []Platform{
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"linux", "amd64"}, {"linux", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// HostPlatform is the platform this process runs on.
func HostPlatform() Platform { return Platform{runtime.GOOS, runtime.GOARCH} }

// ParsePlatforms reads a comma-separated list such as
// "linux_amd64,darwin_arm64"; "all" is every platform of AllPlatforms and
// "host" the one this runs on.
func ParsePlatforms(s string) ([]Platform, error) {
	var out []Platform
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch f {
		case "":
			continue
		case "all":
			out = append(out, AllPlatforms...)
			continue
		case "host":
			out = append(out, HostPlatform())
			continue
		}
		goos, goarch, ok := strings.Cut(f, "_")
		if !ok || goos == "" || goarch == "" {
			return nil, fmt.Errorf("platform %q: want os_arch, such as linux_amd64", f)
		}
		out = append(out, Platform{goos, goarch})
	}
	if len(out) == 0 {
		return nil, errors.New("no platforms")
	}
	return out, nil
}

// Options say what to build and where.
type Options struct {
	// Version is the release version without a leading v, such as 0.1.0.
	Version string
	// Platforms to build the provider for.
	Platforms []Platform
	// Root is the repository root: the provider is built from Root/terraform-provider.
	Root string
	// OutDir receives the artifacts; it is created if missing.
	OutDir string
	// ImageDir is the controller image as an OCI image layout directory
	// holding a file "digest" (one line, sha256:...), as `make image`
	// writes bin/image. Empty or absent: the release has no image, and the
	// provider defaults to the image tagged with its version.
	ImageDir string
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// DevBuild builds as `go build` and `make provider` do (no -trimpath,
	// cgo as the host has it), so that tests reuse the development build
	// cache instead of compiling every dependency again. The zips are still
	// the same from run to run on one machine, but the binaries embed the
	// checkout's paths: releases never set it.
	DevBuild bool
}

// Result lists what Build wrote, as paths in OutDir.
type Result struct {
	Zips            map[Platform]string
	SHA256SUMS      string
	Manifest        string
	ImageDigest     string // empty when the release has no image
	ImageTar        string
	ImageDigestFile string
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Build writes the release into opts.OutDir.
func Build(ctx context.Context, opts Options) (*Result, error) {
	if opts.Version == "" || strings.HasPrefix(opts.Version, "v") {
		return nil, fmt.Errorf("version %q: want a version without a leading v, such as 0.1.0", opts.Version)
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, err
	}
	epoch, err := epoch()
	if err != nil {
		return nil, err
	}
	res := &Result{Zips: map[Platform]string{}}

	// 1. The image first: the provider is built to default to its digest.
	if opts.ImageDir != "" {
		if _, err := os.Stat(filepath.Join(opts.ImageDir, "oci-layout")); err == nil {
			if err := buildImage(opts, epoch, res); err != nil {
				return nil, err
			}
			fmt.Fprintf(logw, "image %s -> %s\n", res.ImageDigest, res.ImageTar)
		} else {
			fmt.Fprintf(logw, "no OCI image layout in %s (run `make image`): skipping the controller image; "+
				"the provider will default to %s:%s\n", opts.ImageDir, "ghcr.io/nodewright/nodewright", opts.Version)
		}
	}

	// 2. One zip per platform.
	tmp, err := os.MkdirTemp("", "nodewright-release-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	sums := map[string]string{}
	for _, p := range opts.Platforms {
		start := time.Now()
		zipPath, err := buildProvider(ctx, opts, p, res.ImageDigest, tmp, epoch)
		if err != nil {
			return nil, err
		}
		res.Zips[p] = zipPath
		if sums[filepath.Base(zipPath)], err = fileSHA256(zipPath); err != nil {
			return nil, err
		}
		fmt.Fprintf(logw, "provider %s -> %s (%s)\n", p, filepath.Base(zipPath), time.Since(start).Round(100*time.Millisecond))
	}

	// 3. The manifest, then the checksums of the zips and the manifest.
	prefix := ProviderName + "_" + opts.Version
	res.Manifest = filepath.Join(opts.OutDir, prefix+"_manifest.json")
	if err := os.WriteFile(res.Manifest, []byte(Manifest), 0o644); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(Manifest))
	sums[filepath.Base(res.Manifest)] = hex.EncodeToString(sum[:])
	res.SHA256SUMS = filepath.Join(opts.OutDir, prefix+"_SHA256SUMS")
	if err := os.WriteFile(res.SHA256SUMS, formatSums(sums), 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(logw, "checksums -> %s\n", filepath.Base(res.SHA256SUMS))
	return res, nil
}

func epoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return Epoch, nil
	}
	var secs int64
	if _, err := fmt.Sscan(v, &secs); err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", v, err)
	}
	return time.Unix(secs, 0).UTC(), nil
}

// buildProvider cross-compiles the provider for p and zips it into OutDir.
func buildProvider(ctx context.Context, opts Options, p Platform, digest, tmp string, epoch time.Time) (string, error) {
	bin := ProviderName + "_v" + opts.Version
	if p.OS == "windows" {
		bin += ".exe"
	}
	out := filepath.Join(tmp, p.String(), bin)
	ldflags := "-s -w -X main.version=" + opts.Version
	if digest != "" {
		ldflags += " -X " + digestLdflag + "=" + digest
	}
	args := []string{"build", "-trimpath", "-ldflags", ldflags, "-o", out, providerPkg}
	env := append(os.Environ(), "GOOS="+p.OS, "GOARCH="+p.Arch, "CGO_ENABLED=0")
	if opts.DevBuild {
		args = slices.DeleteFunc(args, func(a string) bool { return a == "-trimpath" })
		env = env[:len(env)-1]
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = opts.Root
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the provider for %s: %w\n%s", p, err, b)
	}
	zipPath := filepath.Join(opts.OutDir, ProviderName+"_"+opts.Version+"_"+p.String()+".zip")
	return zipPath, writeZip(zipPath, out, bin, epoch)
}

// writeZip writes a zip holding the one executable src, named name, with a
// fixed modification time.
func writeZip(dst, src, name string, epoch time.Time) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: epoch}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}

// buildImage archives the OCI layout in ImageDir and copies its digest.
func buildImage(opts Options, epoch time.Time, res *Result) error {
	b, err := os.ReadFile(filepath.Join(opts.ImageDir, "digest"))
	if err != nil {
		return fmt.Errorf("the image layout %s has no digest file: %w", opts.ImageDir, err)
	}
	digest := strings.TrimSpace(string(b))
	if !digestRE.MatchString(digest) {
		return fmt.Errorf("%s: %q is not a sha256 digest", filepath.Join(opts.ImageDir, "digest"), digest)
	}
	prefix := filepath.Join(opts.OutDir, ImageName+"_"+opts.Version)
	res.ImageDigest = digest
	res.ImageTar = prefix + ".oci.tar"
	res.ImageDigestFile = prefix + ".digest"
	if err := os.WriteFile(res.ImageDigestFile, []byte(digest+"\n"), 0o644); err != nil {
		return err
	}
	return writeTar(res.ImageTar, opts.ImageDir, epoch, map[string]bool{"digest": true})
}

// writeTar archives the tree at src, paths relative to it, in lexical order
// with fixed owners, modes and times, so that the same tree always gives the
// same bytes. Top-level names in skip are left out.
func writeTar(dst, src string, epoch time.Time, skip map[string]bool) error {
	var paths []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		if skip[rel] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return fmt.Errorf("%s: only regular files and directories can be archived", p)
		}
		paths = append(paths, rel)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, rel := range paths {
		full := filepath.Join(src, rel)
		fi, err := os.Stat(full)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: epoch, Format: tar.FormatPAX, Mode: 0o644, Typeflag: tar.TypeReg, Size: fi.Size()}
		if fi.IsDir() {
			h.Name += "/"
			h.Mode, h.Typeflag, h.Size = 0o755, tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.IsDir() {
			continue
		}
		f, err := os.Open(full)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// formatSums writes sha256sum's format, sorted by file name.
func formatSums(sums map[string]string) []byte {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return []byte(b.String())
}

// ReadSHA256SUMS parses a SHA256SUMS file into file name -> hex digest.
func ReadSHA256SUMS(p string) (map[string]string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 {
			return nil, fmt.Errorf("%s:%d: want \"<sha256>  <file>\"", p, i+1)
		}
		out[name] = sum
	}
	return out, nil
}

// RepoRoot walks up from the working directory to the directory holding
// go.mod (the release builds from the root module).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
