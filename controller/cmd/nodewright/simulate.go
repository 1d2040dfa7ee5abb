package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nodewright/nodewright/controller/simulate"
)

func simulateCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	var opts simulate.Options
	fs.StringVar(&opts.PodsFile, "pods", "", "YAML or JSON: Pods, a List of them (kubectl get pods -A -o yaml), or Deployments/StatefulSets/Jobs with replicas; DaemonSets add per-node overhead")
	fs.StringVar(&opts.NodePoolsFile, "nodepools", "", "NodePools and EC2NodeClasses (default: one NodePool that allows everything)")
	fs.StringVar(&opts.CatalogFile, "catalog", "", "instance-type catalog JSON (default: the embedded EC2 catalog with EKS overheads)")
	fs.StringVar(&opts.Region, "region", "us-east-1", "region of the embedded catalog's prices")
	zones := fs.String("zones", "", "comma-separated zones of the embedded catalog (default: <region>a,b,c)")
	fs.StringVar(&opts.NodesFile, "nodes", "", "a running cluster's Nodes (kubectl get nodes -o yaml) and optionally NodeClaims; their pods come from --pods by spec.nodeName. Pods without a node go to these nodes' room first, then to new NodeClaims")
	consolidate := fs.Bool("consolidate", false, "with --nodes: print what consolidation would do to that cluster and the $/h it saves")
	at := fs.String("at", "", "RFC 3339 time to simulate, e.g. 2026-11-01T15:04:05Z (default: now): spot prices are those the controller reads from the local cloud in that hour, and --consolidate counts consolidateAfter up to it")
	output := fs.String("output", "table", "table or json")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), simulateUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if opts.At, err = parseAt(*at, time.Now()); err != nil {
		return err
	}
	if *zones != "" {
		opts.Zones = strings.Split(*zones, ",")
	}
	if *output != "table" && *output != "json" {
		return fmt.Errorf("--output must be table or json, not %q", *output)
	}
	if *consolidate {
		rep, err := simulate.Consolidate(opts)
		if err != nil {
			return err
		}
		if *output == "json" {
			return rep.WriteJSON(out)
		}
		if err := rep.WriteTable(out); err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, opts.PriceSources())
		return err
	}
	in, err := simulate.Load(opts)
	if err != nil {
		return err
	}
	rep, err := simulate.Run(in)
	if err != nil {
		return err
	}
	if *output == "json" {
		return rep.WriteJSON(out)
	}
	if err := rep.WriteTable(out); err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, opts.PriceSources())
	return err
}

const simulateUsage = `usage: nodewright simulate --pods FILE [--nodepools FILE] [--at TIME] [flags]

Shows what nodewright would launch for a workload, offline, with the
controller's scheduling engine. Without --catalog, instance types come from
the embedded EC2 catalog priced as the controller finds them on the local
cloud at --at: on-demand from the catalog's price table, spot from the
synthetic hourly price. A batch the controller recorded with --record-solves
replays with the --at, --region and --zones of its batch.yaml.

flags:
`

// parseAt reads --at; empty means now.
func parseAt(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return now, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--at %q is not an RFC 3339 time such as 2026-11-01T15:04:05Z or 2026-11-01T16:04:05+01:00", v)
	}
	return t, nil
}

func benchWorkloadCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench-workload", flag.ContinueOnError)
	dir := fs.String("dir", ".", "directory to write the workload into")
	n := fs.Int("pods", 1000, "number of pods")
	workload := fs.String("workload", "diverse", "diverse: Karpenter's benchmark shape, as pods-<n>.yaml with the synthetic catalog-400.json; "+
		"realistic: a cluster-shaped mix of Deployments, StatefulSets and DaemonSets, as realistic-<n>-seed<seed>.yaml for the embedded EC2 catalog")
	seed := fs.Uint64("seed", 1, "seed of the realistic workload (the same seed and --pods give the same file)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch *workload {
	case "diverse":
		pods, cat, err := simulate.WriteBenchmarkWorkload(*dir, *n)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote %s and %s\nrun: nodewright simulate --pods %s --catalog %s\n", pods, cat, pods, cat)
	case "realistic":
		pods, err := simulate.WriteRealisticWorkload(*dir, *n, *seed)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote %s\nrun: nodewright simulate --pods %s\n", pods, pods)
	default:
		return fmt.Errorf("--workload must be diverse or realistic, not %q", *workload)
	}
	return nil
}
