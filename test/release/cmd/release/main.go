// Command release writes nodewright's release artifacts into dist/: the
// provider zips for each platform with their SHA256SUMS and registry
// manifest, and the controller image as an OCI layout archive with its
// digest. `make release` runs it; see package test/release for why this is
// not GoReleaser.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/nodewright/nodewright/test/release"
)

func main() {
	version := flag.String("version", "", "release version, without a leading v (required)")
	platforms := flag.String("platforms", "all", `comma-separated os_arch list, "all" or "host"`)
	out := flag.String("out", "dist", "output directory")
	image := flag.String("image-dir", "bin/image", "controller image as an OCI layout directory with a digest file; skipped when absent")
	flag.Parse()
	if err := run(*version, *platforms, *out, *image); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(version, platforms, out, image string) error {
	ps, err := release.ParsePlatforms(platforms)
	if err != nil {
		return err
	}
	root, err := release.RepoRoot()
	if err != nil {
		return err
	}
	if out, err = filepath.Abs(out); err != nil {
		return err
	}
	if image, err = filepath.Abs(image); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	res, err := release.Build(ctx, release.Options{Version: version, Platforms: ps, Root: root, OutDir: out, ImageDir: image, Log: os.Stdout})
	if err != nil {
		return err
	}
	fmt.Printf("release %s: %d provider zips in %s (%s)\n", version, len(res.Zips), out, time.Since(start).Round(time.Second))
	return nil
}
