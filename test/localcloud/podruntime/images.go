package podruntime

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	corev1 "k8s.io/api/core/v1"
)

// The system node pulls images from the local cloud's registry, which
// stands in for every registry: an image naming the local registry's host
// is pulled from it, and any other reference (ghcr.io/..., docker.io/...)
// is looked up there by its repository path, the way a containerd registry
// mirror is. An image the mirror does not hold is run as a no-op stand-in,
// as kwok runs every pod, because the local cloud has no internet to pull
// it from; an image naming the local registry that is missing fails as a
// kubelet's pull would: ErrImagePull, then ImagePullBackOff.

// errNotMirrored says a foreign image is not in the local registry.
var errNotMirrored = errors.New("not in the local registry")

// pulledImage is an image unpacked on disk.
type pulledImage struct {
	// id is the image by the digest its reference resolved to (an index
	// for a multi-platform image), as containerd's CRI reports imageRef and
	// kubelet passes it on as imageID.
	id     string
	root   string
	config v1.Config
}

// imageStore pulls and unpacks images into StateDir/images/<digest>/,
// one directory per platform manifest, shared by every container of it.
type imageStore struct {
	registry string
	dir      string
	platform v1.Platform

	// mu guards present and serializes unpacking, so two pods of one
	// image unpack it once.
	mu      sync.Mutex
	present map[string]*pulledImage // by the reference pods give
}

func newImageStore(registry, dir string) (*imageStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating image directory: %w", err)
	}
	return &imageStore{
		registry: registry, dir: dir, present: map[string]*pulledImage{},
		platform: v1.Platform{OS: "linux", Architecture: runtime.GOARCH},
	}, nil
}

// resolve maps a pod's image reference to the local registry.
func (s *imageStore) resolve(image string) (name.Reference, bool, error) {
	ref, err := name.ParseReference(image, name.Insecure)
	if err != nil {
		return nil, false, fmt.Errorf("invalid image reference %q: %w", image, err)
	}
	local := ref.Context().RegistryStr() == s.registry
	repo, err := name.NewRepository(s.registry+"/"+ref.Context().RepositoryStr(), name.Insecure)
	if err != nil {
		return nil, false, err
	}
	switch r := ref.(type) {
	case name.Digest:
		return repo.Digest(r.DigestStr()), local, nil
	case name.Tag:
		return repo.Tag(r.TagStr()), local, nil
	}
	return nil, false, fmt.Errorf("image reference %q is neither a tag nor a digest", image)
}

// ensure returns the image unpacked, pulling it as the pull policy says:
// Never uses only what is present, IfNotPresent pulls once, Always
// resolves the reference again (cheap when the digest is already
// unpacked). A nil image with a nil error is a foreign image the local
// registry does not mirror: a stand-in.
func (s *imageStore) ensure(ctx context.Context, image string, policy corev1.PullPolicy) (*pulledImage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if policy == "" {
		policy = corev1.PullIfNotPresent
		if !strings.Contains(image, "@") && (strings.HasSuffix(image, ":latest") || !hasTag(image)) {
			policy = corev1.PullAlways
		}
	}
	if img, ok := s.present[image]; ok && policy != corev1.PullAlways {
		return img, nil
	}
	if policy == corev1.PullNever {
		return nil, &pullError{reason: "ErrImageNeverPull", msg: fmt.Sprintf("image %q is not on the node and the pull policy is Never", image)}
	}
	img, err := s.pull(ctx, image)
	if errors.Is(err, errNotMirrored) {
		return nil, nil
	}
	if err != nil {
		return nil, &pullError{reason: "ErrImagePull", msg: fmt.Sprintf("pulling image %q: %v", image, err)}
	}
	s.present[image] = img
	return img, nil
}

func hasTag(image string) bool {
	slash := strings.LastIndexByte(image, '/')
	return strings.LastIndexByte(image, ':') > slash
}

// pullError carries the waiting reason a failed pull reports.
type pullError struct{ reason, msg string }

func (e *pullError) Error() string { return e.msg }

func (s *imageStore) pull(ctx context.Context, image string) (*pulledImage, error) {
	ref, local, err := s.resolve(image)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(ref, remote.WithContext(ctx), remote.WithPlatform(s.platform))
	if err != nil {
		if !local && isNotFound(err) {
			return nil, errNotMirrored
		}
		return nil, err
	}
	// From an index, Image picks this platform's manifest.
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("choosing the %s image of %s: %w", s.platform, ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image config: %w", err)
	}
	if cf.OS != "" && (cf.OS != s.platform.OS || cf.Architecture != s.platform.Architecture) {
		return nil, fmt.Errorf("%s has no %s image (only %s/%s)", ref, s.platform, cf.OS, cf.Architecture)
	}
	root := filepath.Join(s.dir, digest.Hex, "rootfs")
	if _, err := os.Stat(root); err != nil {
		if err := unpack(img, filepath.Join(s.dir, digest.Hex)); err != nil {
			return nil, fmt.Errorf("unpacking %s: %w", ref, err)
		}
	}
	return &pulledImage{id: ref.Context().Digest(desc.Digest.String()).String(), root: root, config: cf.Config}, nil
}

func isNotFound(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	if terr.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range terr.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return false
}

// unpack writes the image's flattened filesystem (mutate.Extract applies
// the layers in order with their whiteouts) to dir/rootfs, by way of a
// temporary directory so a crash never leaves half a root behind.
func unpack(img v1.Image, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(dir, "rootfs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	rc := mutate.Extract(img)
	defer rc.Close()
	if err := untar(rc, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "rootfs"))
}

// untar extracts regular files, directories and links under root,
// refusing any entry that would land outside it. Owners are not kept:
// the runtime runs unprivileged processes as itself.
func untar(r io.Reader, root string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading layer: %w", err)
		}
		rel := filepath.Clean("/" + h.Name)
		if rel == "/" {
			continue
		}
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(h.Mode & 0o777)
		switch h.Typeflag {
		case tar.TypeDir:
			// Owner-writable so that later entries can be written in it.
			if err := os.MkdirAll(path, mode|0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("writing %s: %w", rel, err)
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, path); err != nil {
				return err
			}
		case tar.TypeLink:
			target := filepath.Join(root, filepath.Clean("/"+h.Linkname))
			if err := os.Link(target, path); err != nil {
				return err
			}
		default:
			// Devices and fifos need privileges the runtime does not have.
		}
	}
}

// command resolves a container's argv the Kubernetes way: the pod's
// command replaces the image's entrypoint, and the pod's args replace the
// image's cmd (also when only the command is given, the image's cmd is
// dropped). argv[0] is then found in the unpacked root: as a path when it
// has a slash, else along the image's PATH.
func (img *pulledImage) command(spec *corev1.Container) ([]string, error) {
	var argv []string
	switch {
	case len(spec.Command) > 0:
		argv = append(append(argv, spec.Command...), spec.Args...)
	case len(spec.Args) > 0:
		argv = append(append(argv, img.config.Entrypoint...), spec.Args...)
	default:
		argv = append(append(argv, img.config.Entrypoint...), img.config.Cmd...)
	}
	if len(argv) == 0 {
		return nil, errors.New("no command: the image has no entrypoint or cmd and the pod gives none")
	}
	bin, err := img.lookPath(argv[0])
	if err != nil {
		return nil, err
	}
	argv[0] = bin
	return argv, nil
}

func (img *pulledImage) lookPath(file string) (string, error) {
	var candidates []string
	if strings.Contains(file, "/") {
		candidates = []string{file}
	} else {
		path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		for _, kv := range img.config.Env {
			if v, ok := strings.CutPrefix(kv, "PATH="); ok {
				path = v
			}
		}
		for _, dir := range filepath.SplitList(path) {
			candidates = append(candidates, filepath.Join(dir, file))
		}
	}
	for _, c := range candidates {
		p := filepath.Join(img.root, filepath.Clean("/"+c))
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("executable %q not found in the image", file)
}

// workingDir is the pod's workingDir, else the image's, inside the root.
func (img *pulledImage) workingDir(spec *corev1.Container) string {
	dir := spec.WorkingDir
	if dir == "" {
		dir = img.config.WorkingDir
	}
	return filepath.Join(img.root, filepath.Clean("/"+dir))
}

// checkNonRoot refuses to run a container that must not run as root when
// nothing proves it will not, as kubelet does before creating it: the
// pod's runAsUser wins over the image's user, which must then be numeric.
func (img *pulledImage) checkNonRoot(pod *corev1.Pod, spec *corev1.Container) error {
	var nonRoot *bool
	var uid *int64
	if psc := pod.Spec.SecurityContext; psc != nil {
		nonRoot, uid = psc.RunAsNonRoot, psc.RunAsUser
	}
	if sc := spec.SecurityContext; sc != nil {
		if sc.RunAsNonRoot != nil {
			nonRoot = sc.RunAsNonRoot
		}
		if sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
	}
	if nonRoot == nil || !*nonRoot {
		return nil
	}
	if uid != nil {
		if *uid == 0 {
			return fmt.Errorf("container %s: runAsNonRoot is set but runAsUser is 0", spec.Name)
		}
		return nil
	}
	user, _, _ := strings.Cut(img.config.User, ":")
	if user == "" || user == "0" || user == "root" {
		return fmt.Errorf("container %s: runAsNonRoot is set and the image runs as root (user %q)", spec.Name, img.config.User)
	}
	for _, r := range user {
		if r < '0' || r > '9' {
			return fmt.Errorf("container %s: runAsNonRoot is set and the image's user %q is a name, so it cannot be verified as non-root", spec.Name, user)
		}
	}
	return nil
}
