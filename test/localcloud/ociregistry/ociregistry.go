// Package ociregistry is the local cloud's container registry: the OCI
// distribution API from go-containerregistry's pkg/registry, with blobs on
// disk, plus pushing an OCI image layout into it.
//
// Manifests and tags live in the registry's memory only (pkg/registry keeps
// them there); blobs survive a restart on disk, so `localcloud up` pushes
// bin/image again on every start and only the small manifests travel.
package ociregistry

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/nodewright/nodewright/test/image"
)

// ControllerRepository is where `localcloud up` pushes the controller image.
const ControllerRepository = "nodewright/nodewright"

// Handler serves the registry API, keeping blobs under dir.
func Handler(dir string, logs io.Writer) (http.Handler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating registry blob directory: %w", err)
	}
	if logs == nil {
		logs = io.Discard
	}
	return registry.New(
		registry.WithBlobHandler(registry.NewDiskBlobHandler(dir)),
		registry.Logger(log.New(logs, "registry: ", log.LstdFlags)),
	), nil
}

// Repository names repo on the registry at host (host:port), over HTTP:
// a loopback registry has no TLS.
func Repository(host, repo string) (name.Repository, error) {
	r, err := name.NewRepository(host+"/"+repo, name.Insecure)
	if err != nil {
		return name.Repository{}, fmt.Errorf("repository %s/%s: %w", host, repo, err)
	}
	return r, nil
}

// PushIndex pushes idx as repo:tag on the registry at host and returns the
// by-digest reference, host/repo@sha256:...
func PushIndex(ctx context.Context, host, repo, tag string, idx v1.ImageIndex) (string, error) {
	r, err := Repository(host, repo)
	if err != nil {
		return "", err
	}
	if err := remote.WriteIndex(r.Tag(tag), idx, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("pushing %s:%s: %w", r, tag, err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return "", err
	}
	return r.Digest(digest.String()).String(), nil
}

// PushLayout pushes the image index of an OCI image layout written by
// package image. An empty tag means the layout's own ref name (the
// version it was built as).
func PushLayout(ctx context.Context, host, layoutDir, repo, tag string) (string, error) {
	idx, ref, err := image.ReadLayout(layoutDir)
	if err != nil {
		return "", err
	}
	if tag == "" {
		tag = ref
	}
	if tag == "" {
		return "", fmt.Errorf("image layout %s names no version: pass a tag", layoutDir)
	}
	return PushIndex(ctx, host, repo, tag, idx)
}

// HasLayout says whether dir holds an image layout (index.json).
func HasLayout(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "index.json"))
	return err == nil
}
