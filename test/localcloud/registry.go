package localcloud

import (
	"context"
	"fmt"
	"time"

	"github.com/nodewright/nodewright/test/localcloud/ociregistry"
)

// RegistryHost is the OCI registry's host:port, the host part of image
// references pods on the system node pull.
func (c *Cloud) RegistryHost() string { return registryHost(c.state) }

func registryHost(st *state) string { return fmt.Sprintf("127.0.0.1:%d", st.Ports[Registry]) }

// ControllerImage is the controller image `up` pushed, by digest
// (host/nodewright/nodewright@sha256:...), or "" when there was no
// bin/image to push.
func (c *Cloud) ControllerImage() string { return c.controllerImage }

// PushLayout pushes an OCI image layout (package image's) to the registry
// as repo:tag (tag "" means the layout's version) and returns the image
// by digest.
func (c *Cloud) PushLayout(ctx context.Context, layoutDir, repo, tag string) (string, error) {
	return ociregistry.PushLayout(ctx, c.RegistryHost(), layoutDir, repo, tag)
}

// RegistryHostOf reads the registry's host:port from a state directory,
// for commands run beside a cloud another process started.
func RegistryHostOf(dir string) (string, error) {
	st, err := loadState(dir)
	if err != nil {
		return "", err
	}
	if p := st.Processes[Registry]; p == nil || !p.Alive() {
		return "", fmt.Errorf("localcloud: the registry is not running in %s: run `localcloud up`", dir)
	}
	return registryHost(st), nil
}

// pushControllerImage pushes the controller image when one is built.
func (c *Cloud) pushControllerImage(ctx context.Context) error {
	if !ociregistry.HasLayout(c.opts.ImageLayout) {
		fmt.Fprintf(c.opts.Progress, "  no controller image in %s (run `make image`): nothing pushed\n", c.opts.ImageLayout)
		return nil
	}
	began := time.Now()
	ref, err := c.PushLayout(ctx, c.opts.ImageLayout, ociregistry.ControllerRepository, "")
	if err != nil {
		return fmt.Errorf("pushing the controller image: %w", err)
	}
	c.controllerImage = ref
	fmt.Fprintf(c.opts.Progress, "  %-24s pushed in %-6s %s\n", "controller image", time.Since(began).Round(100*time.Millisecond), ref)
	return nil
}
