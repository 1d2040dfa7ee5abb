package simulate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/volumetopology"
	"github.com/nodewright/nodewright/controller/providers/instancetype"
	"github.com/nodewright/nodewright/controller/providers/pricing"
	"github.com/nodewright/nodewright/controller/utils/nodepool"
)

// Options say where the inputs come from, and when.
type Options struct {
	// At is the moment simulated: the embedded catalog is priced as the
	// controller would find prices then (spot prices change on the hour),
	// and consolidation counts consolidateAfter up to it. Required.
	At       time.Time
	PodsFile string
	// NodesFile holds a running cluster's Nodes (and NodeClaims, if any),
	// for Consolidate.
	NodesFile     string
	NodePoolsFile string
	CatalogFile   string
	Region        string
	Zones         []string
}

// Load reads the files and builds the engine's input. Without NodePools,
// one NodePool named "default" allows everything.
func Load(opts Options) (scheduling.Input, error) {
	var in scheduling.Input
	opts, err := opts.withDefaults()
	if err != nil {
		return in, err
	}
	var objs Objects
	if opts.PodsFile == "" {
		return in, fmt.Errorf("--pods is required")
	}
	for _, f := range []string{opts.PodsFile, opts.NodePoolsFile, opts.NodesFile} {
		if f == "" {
			continue
		}
		if err := ReadFile(f, &objs); err != nil {
			return in, err
		}
	}
	if len(objs.Pods) == 0 {
		return in, fmt.Errorf("%s holds no pods", opts.PodsFile)
	}
	in.DaemonSets = objs.DaemonSets
	pending, bound := objs.Pods, []*corev1.Pod(nil)
	if opts.NodesFile != "" {
		if len(objs.Nodes) == 0 {
			return in, fmt.Errorf("%s holds no nodes", opts.NodesFile)
		}
		in.Nodes, pending, bound, in.PodsElsewhere = objs.existing()
	}
	var claims volumetopology.Claims
	if in.Pods, claims, in.Waiting, err = objs.volumeRequirements(pending, bound); err != nil {
		return in, err
	}
	in.VolumeRequirements, in.VolumeDrivers = claims.Requirements, claims.Drivers

	typesOf := instanceTypeSource(opts, objs)
	if len(objs.NodePools) == 0 {
		t, err := typesOf(nil)
		if err != nil {
			return in, err
		}
		vol, err := nodeVolumeCost(opts, objs, nil)
		if err != nil {
			return in, err
		}
		in.NodePools = []*scheduling.NodePool{{Name: "default", InstanceTypes: t, NodeCost: scheduling.NodeCost{Volumes: vol}}}
		return in, nil
	}
	for _, np := range objs.NodePools {
		t, err := typesOf(np)
		if err != nil {
			return in, err
		}
		vol, err := nodeVolumeCost(opts, objs, np)
		if err != nil {
			return in, err
		}
		sp := nodepool.ForScheduling(np, t)
		sp.NodeCost.Volumes = vol
		in.NodePools = append(in.NodePools, sp)
	}
	return in, nil
}

// nodeVolumeCost is the $/h of the volumes of a node of np (nil: the
// default pool), from its EC2NodeClass in the input files; a pool without
// one gets the default root volume, as the controller would launch it. A
// volume part the embedded prices lack counts as the priced rest (a lower
// bound, as in the controller); a volume type EBS does not have is an error.
func nodeVolumeCost(opts Options, objs Objects, np *v1.NodePool) (float64, error) {
	var nc *v1.EC2NodeClass
	if np != nil {
		if ref := np.Spec.Template.Spec.NodeClassRef; ref != nil {
			nc = objs.NodeClasses[ref.Name]
		}
	}
	usd, err := pricing.VolumeCost(nc, opts.Region)
	if err != nil && !errors.Is(err, catalog.ErrUnpriced) {
		name := "default"
		if np != nil {
			name = np.Name
		}
		return 0, fmt.Errorf("nodepool %s: %w", name, err)
	}
	return usd, nil
}

// withDefaults fills in the region and zones, and refuses a zero At:
// offline prices depend on the hour, so the caller must say which.
func (o Options) withDefaults() (Options, error) {
	if o.At.IsZero() {
		return o, fmt.Errorf("no time to price at: set Options.At (simulate --at)")
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if len(o.Zones) == 0 {
		o.Zones = []string{o.Region + "a", o.Region + "b", o.Region + "c"}
	}
	return o, nil
}

// instanceTypeSource returns a NodePool's instance types (np nil: the
// default pool's): the catalog file, or the embedded EC2 catalog with the
// kubelet settings of the pool's EC2NodeClass.
func instanceTypeSource(opts Options, objs Objects) func(np *v1.NodePool) ([]*scheduling.InstanceType, error) {
	typesFor := map[string][]*scheduling.InstanceType{}
	instanceTypes := func(kubelet catalog.Kubelet) ([]*scheduling.InstanceType, error) {
		// fmt prints maps sorted, so equal settings share a key.
		key := fmt.Sprintf("%+v", kubelet)
		if t, ok := typesFor[key]; ok {
			return t, nil
		}
		var t []*scheduling.InstanceType
		var err error
		if opts.CatalogFile != "" {
			t, err = LoadCatalogFile(opts.CatalogFile)
		} else {
			t, err = EC2CatalogFor(opts.Region, opts.Zones, kubelet, opts.At)
		}
		typesFor[key] = t
		return t, err
	}
	return func(np *v1.NodePool) ([]*scheduling.InstanceType, error) {
		var kubelet catalog.Kubelet
		if np != nil {
			if ref := np.Spec.Template.Spec.NodeClassRef; ref != nil {
				nc, ok := objs.NodeClasses[ref.Name]
				if !ok && opts.CatalogFile == "" {
					return nil, fmt.Errorf("nodepool %s refers to EC2NodeClass %q, which is not in %s", np.Name, ref.Name, opts.NodePoolsFile)
				}
				if ok {
					kubelet = instancetype.Kubelet(nc)
				}
			}
		}
		return instanceTypes(kubelet)
	}
}

// Report is the plan as `simulate --output json` prints it.
type Report struct {
	NodeClaims    []NodeClaimReport    `json:"nodeClaims"`
	ExistingNodes []ExistingNodeReport `json:"existingNodes"`
	// TotalPricePerHour is the plan's true cost: Cost's parts summed.
	TotalPricePerHour float64               `json:"totalPricePerHour"`
	Cost              scheduling.Cost       `json:"cost"`
	Unschedulable     []UnschedulableReport `json:"unschedulable"`
	SolveSeconds      float64               `json:"solveSeconds"`
}

// NodeClaimReport is one node to launch.
type NodeClaimReport struct {
	Name         string `json:"name"`
	NodePool     string `json:"nodePool"`
	InstanceType string `json:"instanceType"`
	Zone         string `json:"zone"`
	CapacityType string `json:"capacityType"`
	// PricePerHour is the node's true cost, Cost's parts summed.
	PricePerHour        float64         `json:"pricePerHour"`
	Cost                scheduling.Cost `json:"cost"`
	InstanceTypeOptions int             `json:"instanceTypeOptions"`
	CPUUtilization      float64         `json:"cpuUtilization"`
	MemoryUtilization   float64         `json:"memoryUtilization"`
	Pods                []string        `json:"pods"`
	// Requirements are what the NodeClaim carries: the pool's narrowed by
	// its pods' (a zone a spread pinned, say). Labels are those pinned to
	// one value, which the node will have; Taints are the pool's.
	Requirements []corev1.NodeSelectorRequirement `json:"requirements"`
	Labels       map[string]string                `json:"labels"`
	Taints       []corev1.Taint                   `json:"taints,omitempty"`
}

// ExistingNodeReport lists pods placed on a node that exists.
type ExistingNodeReport struct {
	Name string   `json:"name"`
	Pods []string `json:"pods"`
}

// UnschedulableReport is a pod nothing can host.
type UnschedulableReport struct {
	Pod    string `json:"pod"`
	Reason string `json:"reason"`
}

// Run solves and reports.
func Run(in scheduling.Input) (*Report, error) {
	start := time.Now()
	res, err := scheduling.Solve(in)
	if err != nil {
		return nil, err
	}
	return NewReport(res, time.Since(start)), nil
}

// NewReport is a solve's plan as simulate prints it. The controller's solve
// recorder writes its plans with it too, so a recorded plan and a replayed
// one compare field by field.
func NewReport(res *scheduling.Result, solveTime time.Duration) *Report {
	r := &Report{SolveSeconds: solveTime.Seconds(), TotalPricePerHour: res.TotalPrice,
		NodeClaims: []NodeClaimReport{}, ExistingNodes: []ExistingNodeReport{}, Unschedulable: []UnschedulableReport{}}
	for i, nc := range res.NodeClaims {
		c := nc.Chosen()
		rep := NodeClaimReport{
			Name: fmt.Sprintf("%s-%d", nc.NodePool, i+1), NodePool: nc.NodePool, InstanceType: c.InstanceType.Name,
			Zone: c.Offering.Zone, CapacityType: c.Offering.CapacityType, PricePerHour: c.Cost.Total(), Cost: c.Cost,
			InstanceTypeOptions: nc.InstanceTypes, Pods: podNames(nc.Pods),
			Requirements: nc.Requirements.NodeSelectorRequirements(), Labels: map[string]string{}, Taints: nc.Taints,
			CPUUtilization:    utilization(nc.Requests, c.InstanceType.Allocatable, corev1.ResourceCPU),
			MemoryUtilization: utilization(nc.Requests, c.InstanceType.Allocatable, corev1.ResourceMemory),
		}
		for _, k := range nc.Requirements.Keys() {
			if v, ok := nc.Requirements.Single(k); ok {
				rep.Labels[k] = v
			}
		}
		r.NodeClaims = append(r.NodeClaims, rep)
	}
	for _, e := range res.ExistingNodes {
		r.ExistingNodes = append(r.ExistingNodes, ExistingNodeReport{Name: e.Node, Pods: podNames(e.Pods)})
	}
	for _, u := range res.Unschedulable {
		r.Unschedulable = append(r.Unschedulable, UnschedulableReport{Pod: u.Pod.Namespace + "/" + u.Pod.Name, Reason: u.Reason})
	}
	return r
}

func podNames(pods []*corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Namespace + "/" + p.Name
	}
	sort.Strings(out)
	return out
}

func utilization(used, alloc corev1.ResourceList, name corev1.ResourceName) float64 {
	a := alloc[name]
	if a.IsZero() {
		return 0
	}
	u := used[name]
	return float64(u.MilliValue()) / float64(a.MilliValue())
}

// WriteJSON prints the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable prints the plan for people.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tNODEPOOL\tINSTANCE TYPE\tZONE\tCAPACITY\tPODS\tCPU\tMEMORY\t$/H\tOPTIONS")
	for _, n := range r.NodeClaims {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%.0f%%\t%.0f%%\t%.4f\t%d\n", n.Name, n.NodePool, n.InstanceType, n.Zone,
			n.CapacityType, len(n.Pods), 100*n.CPUUtilization, 100*n.MemoryUtilization, n.PricePerHour, n.InstanceTypeOptions)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range r.ExistingNodes {
		fmt.Fprintf(w, "existing node %s takes %d pods\n", e.Name, len(e.Pods))
	}
	c := r.Cost
	fmt.Fprintf(w, "\n%d nodes, $%.4f/hour (instances $%.4f, volumes $%.4f, per-node overhead $%.4f, burst surplus $%.4f), solved in %.3fs\n",
		len(r.NodeClaims), r.TotalPricePerHour, c.Instance, c.Volumes, c.Overhead, c.BurstSurplus, r.SolveSeconds)
	if len(r.Unschedulable) > 0 {
		fmt.Fprintf(w, "\n%d pods cannot be scheduled:\n", len(r.Unschedulable))
		for _, u := range r.Unschedulable {
			fmt.Fprintf(w, "  %s: %s\n", u.Pod, strings.TrimSpace(u.Reason))
		}
	}
	return nil
}
