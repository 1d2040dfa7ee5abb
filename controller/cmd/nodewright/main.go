// Command nodewright is nodewright's CLI: the controller, and the offline
// simulation of what it would launch.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

const usage = `usage: nodewright <command> [flags]

commands:
  controller      run the controller (leader-elected; see 'nodewright controller --help')
  simulate        show what nodewright would launch for a workload, offline
  bench-workload  write a benchmark workload (synthetic or realistic) as simulate input

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
	case "bench-workload":
		err = benchWorkloadCmd(os.Args[2:], os.Stdout)
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
