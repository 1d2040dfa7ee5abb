package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/localcloud/ociregistry"
)

// registry runs the OCI registry daemon that `up` starts as the "registry"
// component.
func registry(args []string) error {
	fs := flag.NewFlagSet("registry", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	dir := fs.String("dir", "", "directory for the registry's blobs (kept across restarts)")
	_ = fs.Parse(args)
	if *dir == "" {
		return errors.New("registry needs --dir")
	}
	h, err := ociregistry.Handler(*dir, os.Stderr)
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := untilStopped()
	defer stop()
	errs := make(chan error, 1)
	go func() { errs <- srv.ListenAndServe() }()
	fmt.Fprintf(os.Stderr, "registry: serving on %s, blobs in %s\n", *addr, *dir)
	select {
	case err := <-errs:
		return fmt.Errorf("serving registry: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// push pushes an OCI image layout to the running cloud's registry.
func push(dir string, args []string) error {
	fs := flag.NewFlagSet("push", flag.ExitOnError)
	layoutDir := fs.String("layout", "", "OCI image layout to push (default: bin/image)")
	repo := fs.String("repo", ociregistry.ControllerRepository, "repository to push to")
	tag := fs.String("tag", "", "tag (default: the layout's version)")
	_ = fs.Parse(args)
	if *layoutDir == "" {
		bin, err := localcloud.DefaultBinDir()
		if err != nil {
			return err
		}
		*layoutDir = filepath.Join(bin, "image")
	}
	host, err := localcloud.RegistryHostOf(dir)
	if err != nil {
		return err
	}
	ref, err := ociregistry.PushLayout(context.Background(), host, *layoutDir, *repo, *tag)
	if err != nil {
		return err
	}
	fmt.Println(ref)
	return nil
}
