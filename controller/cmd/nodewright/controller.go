package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nodewright/nodewright/controller/operator"
	"github.com/nodewright/nodewright/controller/operator/logging"
	"github.com/nodewright/nodewright/controller/operator/options"
)

func controllerCmd(args []string) error {
	fs := flag.NewFlagSet("controller", flag.ContinueOnError)
	opts := &options.Options{}
	opts.AddFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: nodewright controller [flags]\n\nRuns the nodewright controller. Every flag has an environment fallback;\nAWS_* and KUBECONFIG (in-cluster config when unset) are read as usual.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("invalid settings:\n%w", err)
	}
	log, err := logging.New(opts.LogLevel)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	op, err := operator.New(ctx, opts, log)
	if err != nil {
		return err
	}
	if err := op.RegisterControllers(ctx); err != nil {
		return err
	}
	log.Info("starting controller", "version", version, "cluster", opts.ClusterName, "endpoint", opts.ClusterEndpoint,
		"kubernetesVersion", op.KubernetesVersion, "interruptionQueue", opts.InterruptionQueue)
	return op.Start(ctx)
}
