package podruntime

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/nodewright/nodewright/test/image"
	"github.com/nodewright/nodewright/test/localcloud/ociregistry"
)

// testStore serves an in-process registry holding tests/tool:v1, an
// image for this machine's platform whose entrypoint is /tool.
func testStore(t *testing.T) (*imageStore, string, v1.ImageIndex) {
	t.Helper()
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	host := strings.TrimPrefix(reg.URL, "http://")
	bin := filepath.Join(t.TempDir(), "tool")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Two platforms, so the pull has to pick this machine's.
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	idx, err := image.Build(image.Options{Version: "v1", Entrypoint: "/tool", Created: time.Unix(0, 0), Binaries: []image.Binary{
		{Platform: v1.Platform{OS: "linux", Architecture: other}, Path: bin},
		{Platform: v1.Platform{OS: "linux", Architecture: runtime.GOARCH}, Path: bin},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ociregistry.PushIndex(context.Background(), host, "tests/tool", "v1", idx); err != nil {
		t.Fatal(err)
	}
	s, err := newImageStore(host, filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	return s, host, idx
}

func TestPullUnpacksThisPlatform(t *testing.T) {
	s, host, idx := testStore(t)
	img, err := s.ensure(context.Background(), host+"/tests/tool:v1", corev1.PullIfNotPresent)
	if err != nil {
		t.Fatal(err)
	}
	// The id names what the tag resolved to, the index, as containerd does.
	digest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if want := host + "/tests/tool@" + digest.String(); img.id != want {
		t.Errorf("image id %q, want %q", img.id, want)
	}
	fi, err := os.Stat(filepath.Join(img.root, "tool"))
	if err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("unpacked /tool: %v %v", fi, err)
	}
	if img.config.User != "65532:65532" {
		t.Errorf("user %q", img.config.User)
	}
	// A foreign reference is looked up in the local registry as a mirror.
	mirrored, err := s.ensure(context.Background(), "ghcr.io/tests/tool:v1", corev1.PullIfNotPresent)
	if err != nil || mirrored == nil || mirrored.root != img.root {
		t.Errorf("mirrored pull: %+v %v, want the same root %s", mirrored, err, img.root)
	}
}

func TestPullFailures(t *testing.T) {
	s, host, _ := testStore(t)
	ctx := context.Background()
	var perr *pullError
	if _, err := s.ensure(ctx, host+"/tests/absent:v1", corev1.PullIfNotPresent); !errors.As(err, &perr) || perr.reason != "ErrImagePull" {
		t.Errorf("missing image on the local registry: %v, want ErrImagePull", err)
	}
	if _, err := s.ensure(ctx, host+"/tests/tool:v1", corev1.PullNever); !errors.As(err, &perr) || perr.reason != "ErrImageNeverPull" {
		t.Errorf("pull policy Never, image not present: %v, want ErrImageNeverPull", err)
	}
	// Not naming the local registry and not mirrored: a no-op stand-in.
	if img, err := s.ensure(ctx, "docker.io/library/busybox:1.36", corev1.PullIfNotPresent); img != nil || err != nil {
		t.Errorf("foreign image not mirrored: %+v %v, want a stand-in (nil, nil)", img, err)
	}
}

func TestCommand(t *testing.T) {
	s, host, _ := testStore(t)
	img, err := s.ensure(context.Background(), host+"/tests/tool:v1", corev1.PullIfNotPresent)
	if err != nil {
		t.Fatal(err)
	}
	img.config.Cmd = []string{"--from-image"}
	// A bare command name is searched along the image's PATH.
	img.config.Env = []string{"PATH=/usr/bin:/"}
	tool := filepath.Join(img.root, "tool")
	for _, tc := range []struct {
		name          string
		command, args []string
		want          []string
	}{
		{"image entrypoint and cmd", nil, nil, []string{tool, "--from-image"}},
		{"args replace cmd", nil, []string{"--a"}, []string{tool, "--a"}},
		{"command replaces entrypoint and drops cmd", []string{"/tool", "--c"}, nil, []string{tool, "--c"}},
		{"command and args", []string{"tool"}, []string{"--a"}, []string{tool, "--a"}},
	} {
		got, err := img.command(&corev1.Container{Command: tc.command, Args: tc.args})
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q %v, want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := img.command(&corev1.Container{Command: []string{"/absent"}}); err == nil {
		t.Errorf("a command the image lacks ran")
	}
}

func TestCheckNonRoot(t *testing.T) {
	pod := func(nonRoot *bool, uid *int64) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: nonRoot, RunAsUser: uid}}}
	}
	c := &corev1.Container{Name: "main"}
	for _, tc := range []struct {
		name  string
		user  string
		pod   *corev1.Pod
		allow bool
	}{
		{"numeric non-root image", "65532:65532", pod(ptr.To(true), nil), true},
		{"image user unset", "", pod(ptr.To(true), nil), false},
		{"image user 0", "0", pod(ptr.To(true), nil), false},
		{"image user a name", "nobody", pod(ptr.To(true), nil), false},
		{"runAsUser overrides a root image", "", pod(ptr.To(true), ptr.To[int64](1000)), true},
		{"runAsUser 0", "65532", pod(ptr.To(true), ptr.To[int64](0)), false},
		{"no runAsNonRoot", "", pod(nil, nil), true},
	} {
		img := &pulledImage{config: v1.Config{User: tc.user}}
		if err := img.checkNonRoot(tc.pod, c); (err == nil) != tc.allow {
			t.Errorf("%s: %v, want allowed=%v", tc.name, err, tc.allow)
		}
	}
}
