// Package image builds nodewright's controller image: an OCI index with one
// single-layer image per platform, each holding nothing but the static
// controller binary (plus /etc/passwd and /tmp), and writes it as an OCI
// image layout.
//
// Why go-containerregistry and not ko: ko builds on top of a base image it
// pulls from a registry (cgr.dev/chainguard/static by default), and this
// build must work offline and give the same digest for the same commit. ko
// itself assembles images with go-containerregistry's mutate package, so we
// use that package directly on empty.Image: no base image to fetch, and
// every byte of the layer (tar order, mtimes, owners) is ours to fix.
package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// OCI pre-defined annotation keys (image-spec annotations.md), used both
// as config labels and, for ref.name, on the layout's index.json entry.
const (
	LabelSource   = "org.opencontainers.image.source"
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelCreated  = "org.opencontainers.image.created"
	AnnotationRef = "org.opencontainers.image.ref.name"
)

// DefaultSource is the repository the image is built from.
const DefaultSource = "https://github.com/nodewright/nodewright"

// Entrypoint is where the binary sits in the image.
const Entrypoint = "/nodewright"

// NonRoot is the image's user: distroless's "nonroot", numeric so that a
// pod's runAsNonRoot can be verified without an /etc/passwd lookup.
const NonRoot = 65532

// DigestFile is the file beside the layout that names the index digest.
const DigestFile = "digest"

// Binary is one platform's controller binary.
type Binary struct {
	Platform v1.Platform
	Path     string
}

// Options say what goes into the image.
type Options struct {
	// Binaries, one per platform; the index lists them in this order.
	Binaries []Binary
	// Version, Revision and Source become OCI labels.
	Version  string
	Revision string
	Source   string
	// Entrypoint is the binary's path in the image; default Entrypoint.
	// (Tests build images of other binaries.)
	Entrypoint string
	// Created is the time recorded everywhere a time is: config, history,
	// file mtimes. Fix it (SOURCE_DATE_EPOCH, the commit time) to make the
	// digest a function of the inputs alone.
	Created time.Time
}

// Build assembles the index in memory.
func Build(o Options) (v1.ImageIndex, error) {
	if len(o.Binaries) == 0 {
		return nil, errors.New("image: no binaries")
	}
	if o.Version == "" {
		return nil, errors.New("image: version is required")
	}
	if o.Source == "" {
		o.Source = DefaultSource
	}
	if o.Entrypoint == "" {
		o.Entrypoint = Entrypoint
	}
	if !strings.HasPrefix(o.Entrypoint, "/") || strings.Count(o.Entrypoint, "/") != 1 {
		return nil, fmt.Errorf("image: entrypoint %q must be a file at the root, like /nodewright", o.Entrypoint)
	}
	created := o.Created.UTC().Truncate(time.Second)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, b := range o.Binaries {
		img, err := platformImage(b, o, created)
		if err != nil {
			return nil, fmt.Errorf("image for %s: %w", b.Platform, err)
		}
		p := b.Platform
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return idx, nil
}

func platformImage(b Binary, o Options, created time.Time) (v1.Image, error) {
	bin, err := os.ReadFile(b.Path)
	if err != nil {
		return nil, fmt.Errorf("reading binary: %w", err)
	}
	tarBytes, err := rootfs(bin, o.Entrypoint, created)
	if err != nil {
		return nil, err
	}
	layer, err := layerOf(tarBytes)
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: created}, CreatedBy: "nodewright test/image: " + o.Entrypoint, Comment: "static controller binary"},
	})
	if err != nil {
		return nil, fmt.Errorf("adding layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = b.Platform.OS, b.Platform.Architecture, b.Platform.Variant
	cf.Created = v1.Time{Time: created}
	cf.Config = v1.Config{
		Entrypoint: []string{o.Entrypoint},
		User:       fmt.Sprintf("%d:%d", NonRoot, NonRoot),
		WorkingDir: "/",
		// No shell, no PATH to search; HOME for SDKs that look for config.
		Env: []string{"HOME=/tmp"},
		Labels: map[string]string{
			LabelSource:   o.Source,
			LabelVersion:  o.Version,
			LabelRevision: o.Revision,
			LabelCreated:  created.Format(time.RFC3339),
		},
	}
	if o.Revision == "" {
		delete(cf.Config.Labels, LabelRevision)
	}
	return mutate.ConfigFile(img, cf)
}

// layerOf wraps an uncompressed tar as a gzip OCI layer. Go's gzip writes
// no timestamp or name in its header, so the same tar compresses to the
// same bytes at a fixed level.
func layerOf(tarBytes []byte) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(9))
}

// tarEntry is one file or directory of the layer.
type tarEntry struct {
	name string
	mode int64
	dir  bool
	data []byte
}

// rootfs is the layer's tar, written in a fixed order with fixed owners,
// modes and times so that it depends on the binary and created alone.
func rootfs(bin []byte, entrypoint string, created time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/tmp:/sbin/nologin\n", NonRoot, NonRoot)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", NonRoot)
	// In name order, as a tar from a sorted walk would be (the binary's
	// name may fall anywhere among them).
	entries := []tarEntry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		// Sticky and world-writable, as /tmp is anywhere: the user is not root.
		{name: "tmp/", mode: 0o1777, dir: true},
	}
	entries = append(entries, tarEntry{name: strings.TrimPrefix(entrypoint, "/"), mode: 0o755, data: bin})
	slices.SortFunc(entries, func(a, b tarEntry) int {
		return strings.Compare(a.name, b.name)
	})
	for _, e := range entries {
		h := &tar.Header{
			Name: e.name, Mode: e.mode, Size: int64(len(e.data)),
			ModTime: created, Uid: 0, Gid: 0, Uname: "root", Gname: "root",
			Typeflag: tar.TypeReg, Format: tar.FormatPAX,
		}
		if e.dir {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("writing %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("writing %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteLayout replaces dir with an OCI image layout holding idx, its
// index.json entry named by ref (the version), and writes dir/digest with
// the index digest. The layout is built beside dir and renamed into place,
// so a reader never sees half of one.
func WriteLayout(dir string, idx v1.ImageIndex, ref string) (v1.Hash, error) {
	digest, err := idx.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("computing index digest: %w", err)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return v1.Hash{}, err
	}
	tmp, err := os.MkdirTemp(parent, filepath.Base(dir)+".tmp-")
	if err != nil {
		return v1.Hash{}, err
	}
	defer os.RemoveAll(tmp)
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("creating layout: %w", err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{AnnotationRef: ref})); err != nil {
		return v1.Hash{}, fmt.Errorf("writing layout: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, DigestFile), []byte(digest.String()+"\n"), 0o644); err != nil {
		return v1.Hash{}, err
	}
	// MkdirTemp and the layout writer's temporary files are private;
	// the layout is for anyone to read (and for release to archive).
	if err := readable(tmp); err != nil {
		return v1.Hash{}, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return v1.Hash{}, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return v1.Hash{}, fmt.Errorf("moving layout into place: %w", err)
	}
	return digest, nil
}

// readable makes every directory under root 0755 and every file 0644.
func readable(root string) error {
	return filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(path, mode)
	})
}

// ReadLayout opens a layout WriteLayout wrote: the index and its ref name.
func ReadLayout(dir string) (v1.ImageIndex, string, error) {
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, "", fmt.Errorf("reading image layout %s: %w", dir, err)
	}
	m, err := root.IndexManifest()
	if err != nil {
		return nil, "", fmt.Errorf("reading %s/index.json: %w", dir, err)
	}
	if len(m.Manifests) != 1 || !m.Manifests[0].MediaType.IsIndex() {
		return nil, "", fmt.Errorf("image layout %s: want one image index in index.json, found %d entries", dir, len(m.Manifests))
	}
	d := m.Manifests[0]
	idx, err := root.ImageIndex(d.Digest)
	if err != nil {
		return nil, "", fmt.Errorf("image layout %s: %w", dir, err)
	}
	return idx, d.Annotations[AnnotationRef], nil
}
