// Command karpenterbench runs Karpenter core's own scheduler
// (sigs.k8s.io/karpenter, Apache-2.0) on a scheduling problem written by
// nodewright's test/benchvs package and writes Karpenter's plan, so the two
// engines can be compared on the same input. It lives in its own module so
// that Karpenter never enters nodewright's go.mod.
//
//	karpenterbench -in input.json -out plan.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/karpenter/pkg/operator/logging"
)

func main() {
	in := flag.String("in", "", "input JSON (instanceTypes, nodePools, daemonSets, pods)")
	out := flag.String("out", "-", "where to write the plan JSON (- for stdout)")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "the scheduler's parallelism (NumConcurrentReconciles)")
	flag.Parse()
	if err := run(*in, *out, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "karpenterbench:", err)
		os.Exit(1)
	}
}

func run(inPath, outPath string, workers int) error {
	if inPath == "" {
		return fmt.Errorf("-in is required: the path of an input JSON file")
	}
	if workers < 1 {
		return fmt.Errorf("-workers must be at least 1, got %d", workers)
	}
	// Karpenter logs every unschedulable pod; the plan reports them instead.
	log.SetLogger(logging.NopLogger)
	raw, err := os.ReadFile(inPath)
	if err != nil {
		return fmt.Errorf("reading input: %w", err)
	}
	var input Input
	if err := json.Unmarshal(raw, &input); err != nil {
		return fmt.Errorf("parsing input %s: %w", inPath, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	plan, err := Run(ctx, &input, workers)
	if err != nil {
		return err
	}
	if outPath == "-" {
		return writePlan(os.Stdout, plan)
	}
	f, err := os.Create(outPath)
	if err != nil {
		return fmt.Errorf("creating output: %w", err)
	}
	if err := writePlan(f, plan); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	return nil
}

func writePlan(w io.Writer, plan *Plan) error {
	if err := json.NewEncoder(w).Encode(plan); err != nil {
		return fmt.Errorf("writing plan: %w", err)
	}
	return nil
}
