// Command localcloud starts, stops and inspects nodewright's local cloud: a
// real Kubernetes control plane on loopback.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/nodewright/nodewright/test/localcloud"
)

const usage = `usage: localcloud [--dir DIR] [--bin DIR] [--profile P] [--no-auth] up|down|status|inject|push|serve|registry

  up      start etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
          kwok and the AWS endpoint on 127.0.0.1, and wait until they are ready
  down    stop every process 'up' started, by pid (state is kept)
  status  show each component; a crashed one is shown with its log tail
  inject  inject a fault: 'localcloud inject --help' lists them
  walkthrough  replay the inflate walkthrough against the running cloud (make demo)
  push    push an OCI image layout to the cloud's registry:
          push [--layout DIR] [--repo R] [--tag T]; prints REGISTRY/R@sha256:...
  serve   run the AWS endpoint daemon (started by 'up')
  registry  run the OCI registry daemon (started by 'up')

Flags:
`

func main() {
	fs := flag.NewFlagSet("localcloud", flag.ExitOnError)
	dir := fs.String("dir", "", "state directory (default: .localcloud at the repository root)")
	bin := fs.String("bin", "", "directory of the binaries `make tools` builds (default: bin at the repository root)")
	profile := fs.String("profile", "default", "instance timing: default (nodes join ~3 s after launch) or realistic (~30 s)")
	noAuth := fs.Bool("no-auth", false, "up: the AWS endpoint accepts unsigned requests and skips IAM authorization (debugging only; status shows the mode)")
	fs.Usage = func() { fmt.Fprint(os.Stderr, usage); fs.PrintDefaults() }
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() >= 1 && fs.Arg(0) == "serve" {
		if err := serve(fs.Args()[1:]); err != nil {
			fail(err)
		}
		return
	}
	if fs.NArg() >= 1 && fs.Arg(0) == "registry" {
		if err := registry(fs.Args()[1:]); err != nil {
			fail(err)
		}
		return
	}
	if fs.NArg() >= 1 && fs.Arg(0) == "push" {
		if *dir == "" {
			*dir = defaultDir()
		}
		if err := push(*dir, fs.Args()[1:]); err != nil {
			fail(err)
		}
		return
	}
	if fs.NArg() >= 1 && fs.Arg(0) == "inject" {
		if *dir == "" {
			*dir = defaultDir()
		}
		if err := inject(*dir, fs.Args()[1:]); err != nil {
			fail(err)
		}
		return
	}
	if fs.NArg() >= 1 && fs.Arg(0) == "walkthrough" {
		if *dir == "" {
			*dir = defaultDir()
		}
		if err := walkthrough(*dir, fs.Args()[1:]); err != nil {
			fail(err)
		}
		return
	}
	if fs.NArg() != 1 {
		fs.Usage()
		os.Exit(2)
	}
	if *dir == "" {
		*dir = defaultDir()
	}
	switch fs.Arg(0) {
	case "up":
		ctx, stop := untilStopped()
		defer stop()
		c, err := localcloud.Up(ctx, localcloud.Options{Dir: *dir, BinDir: *bin, Detach: true, Progress: os.Stdout, Profile: *profile, NoAuth: *noAuth})
		if err != nil {
			fail(err)
		}
		fmt.Printf("export KUBECONFIG=%s   # or: source %s\n", c.Kubeconfig, filepath.Join(c.Dir(), "env"))
	case "down":
		if err := localcloud.Down(*dir); err != nil {
			fail(err)
		}
		fmt.Println("local cloud stopped")
	case "status":
		sts, err := localcloud.Status(*dir)
		if err != nil {
			fail(err)
		}
		if len(sts) == 0 {
			fmt.Println("local cloud has not been started in", *dir)
			os.Exit(1)
		}
		healthy := true
		for _, s := range sts {
			state := "running"
			switch {
			case s.Crashed:
				state = "CRASHED"
			case !s.Running:
				state = "stopped"
			}
			healthy = healthy && s.Running
			fmt.Printf("%-24s %-8s pid %-7d log %s\n", s.Name, state, s.PID, s.Log)
			if s.Mode != "" {
				fmt.Printf("    %s\n", s.Mode)
			}
			if s.Crashed {
				fmt.Printf("    last log lines:\n%s\n", indent(s.LogTail))
			}
		}
		if !healthy {
			os.Exit(1)
		}
	default:
		fs.Usage()
		os.Exit(2)
	}
}

func defaultDir() string {
	root, err := localcloud.RepoRoot()
	if err != nil {
		fail(err)
	}
	return filepath.Join(root, ".localcloud")
}

func indent(s string) string {
	return "      " + strings.ReplaceAll(s, "\n", "\n      ")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "localcloud:", err)
	os.Exit(1)
}

// untilStopped is cancelled by SIGINT, or by the SIGTERM with which `down`
// stops every component.
func untilStopped() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
