// Command nodewright is nodewright's CLI: the controller, and the offline
// simulation of what it would launch.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	// The image has no CA bundle (nothing but this binary): Go falls back
	// to these roots when the system has none, so AWS's TLS still verifies.
	_ "golang.org/x/crypto/x509roots/fallback"
)

// version is stamped by the build (-X main.version=...); the image's
// Makefile target sets it to the release version.
var version = "dev"

const usage = `usage: nodewright <command> [flags]

commands:
  controller      run the controller (leader-elected; see 'nodewright controller --help')
  simulate        show what nodewright would launch for a workload, offline
  convert         turn Karpenter's NodePools, Provisioners and node classes into nodewright's
  migrate         the same, read from a cluster that runs Karpenter, with its nodes and the cut-over steps
  bench-workload  write a benchmark workload (synthetic or realistic) as simulate input
  version         print the version this binary was built as

Run 'nodewright <command> --help' for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "controller":
		err = controllerCmd(os.Args[2:])
	case "simulate":
		err = simulateCmd(os.Args[2:], os.Stdout)
	case "convert":
		err = convertCmd(os.Args[2:], os.Stdin, os.Stdout, os.Stderr)
	case "migrate":
		err = migrateCmd(os.Args[2:], os.Stdout, os.Stderr)
	case "bench-workload":
		err = benchWorkloadCmd(os.Args[2:], os.Stdout)
	case "version":
		fmt.Println(version)
		return
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "nodewright: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return // the flag set printed its usage
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nodewright:", err)
		os.Exit(1)
	}
}
