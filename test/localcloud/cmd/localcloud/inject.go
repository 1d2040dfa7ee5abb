package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nodewright/nodewright/test/localcloud"
)

// inject parses `localcloud inject <fault> [flags]` and posts the fault.
func inject(dir string, args []string) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintf(os.Stderr, "usage: localcloud inject <fault> [flags]\n\nfaults:\n%s", localcloud.FaultHelp())
		if len(args) == 0 {
			return fmt.Errorf("name a fault")
		}
		return nil
	}
	fault, ok := localcloud.FaultByName(args[0])
	if !ok {
		return fmt.Errorf("unknown fault %q; faults:\n%s", args[0], localcloud.FaultHelp())
	}
	fs := flag.NewFlagSet("inject "+fault.Name, flag.ExitOnError)
	instance := fs.String("instance", "", "instance id")
	lead := fs.Duration("lead", 2*time.Minute, "spot interruption lead time before termination")
	startIn := fs.Duration("start-in", 10*time.Minute, "scheduled change start, from now")
	typ := fs.String("type", "", "instance type (ice)")
	zone := fs.String("zone", "", "availability zone (ice)")
	capacityType := fs.String("capacity-type", "spot", "spot or on-demand (ice)")
	clear := fs.Bool("clear", false, "put the pool back in capacity (ice); heal the node (not-ready)")
	target := fs.String("target", "", "service:Action or service:* (api-errors)")
	rate := fs.Float64("rate", 1, "fraction of calls that fail, 0 removes the fault (api-errors)")
	code := fs.String("code", "", "error code, default the service's throttling code (api-errors)")
	count := fs.Int("count", 1, "how many launches never join (never-join)")
	node := fs.String("node", "", "node name (not-ready)")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "localcloud inject %s: %s\n\nflags:\n", fault.Name, fault.Help)
		fs.PrintDefaults()
	}
	_ = fs.Parse(args[1:])

	if fault.Name == "not-ready" {
		// A Kubernetes fault, not an AWS one: it annotates the Node.
		return localcloud.InjectNodeNotReady(context.Background(), dir, *node, *clear)
	}
	var body any
	switch fault.Name {
	case "spot-interruption", "rebalance", "scheduled-change", "capacity-reservation-interruption", "instance-loss":
		if *instance == "" {
			return fmt.Errorf("inject %s needs --instance", fault.Name)
		}
		body = map[string]any{"instanceId": *instance, "leadSeconds": int(lead.Seconds()), "startInSeconds": int(startIn.Seconds())}
	case "ice":
		body = map[string]any{"instanceType": *typ, "zone": *zone, "capacityType": *capacityType, "available": *clear}
	case "api-errors":
		body = map[string]any{"target": *target, "rate": *rate, "code": *code}
	case "never-join":
		body = map[string]any{"count": *count}
	default:
		body = map[string]any{}
	}
	out, err := localcloud.Inject(context.Background(), dir, fault.Route, body)
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}
