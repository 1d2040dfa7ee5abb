// Command image writes nodewright's controller image as an OCI image layout
// (see package image): `make image` cross-compiles the binaries and runs it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nodewright/nodewright/test/image"
)

// binaryFlags collects repeated --binary os/arch=path flags, in order.
type binaryFlags []image.Binary

func (f *binaryFlags) String() string { return fmt.Sprint(*f) }

func (f *binaryFlags) Set(v string) error {
	plat, path, ok := strings.Cut(v, "=")
	if !ok || path == "" {
		return fmt.Errorf("--binary wants os/arch=path, got %q", v)
	}
	p, err := v1.ParsePlatform(plat)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return fmt.Errorf("--binary %q: platform %q is not os/arch[/variant]", v, plat)
	}
	*f = append(*f, image.Binary{Platform: *p, Path: path})
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	out := fs.String("out", "bin/image", "directory the OCI image layout replaces; the index digest goes to OUT/digest")
	version := fs.String("version", "", "image version (label and the layout's ref name)")
	revision := fs.String("revision", "", "git commit the image is built from (label)")
	source := fs.String("source", image.DefaultSource, "source repository (label)")
	epoch := fs.String("created", os.Getenv("SOURCE_DATE_EPOCH"), "creation time, seconds since the epoch (default $SOURCE_DATE_EPOCH); fixed so a commit always gives one digest")
	var bins binaryFlags
	fs.Var(&bins, "binary", "os/arch=path of a controller binary (repeat per platform)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *epoch == "" {
		return errors.New("--created (or SOURCE_DATE_EPOCH) is required: the image's times must not come from the clock")
	}
	secs, err := strconv.ParseInt(*epoch, 10, 64)
	if err != nil {
		return fmt.Errorf("--created %q: %w", *epoch, err)
	}
	idx, err := image.Build(image.Options{Binaries: bins, Version: *version, Revision: *revision, Source: *source, Created: time.Unix(secs, 0)})
	if err != nil {
		return err
	}
	digest, err := image.WriteLayout(*out, idx, *version)
	if err != nil {
		return err
	}
	fmt.Printf("image %s (%d platforms) in %s: %s\n", *version, len(bins), *out, digest)
	return nil
}
