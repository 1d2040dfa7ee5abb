package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	fakecr "sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/karpenter/pkg/cloudprovider"
	"sigs.k8s.io/karpenter/pkg/cloudprovider/fake"
	karpsched "sigs.k8s.io/karpenter/pkg/controllers/provisioning/scheduling"
	"sigs.k8s.io/karpenter/pkg/controllers/state"
	"sigs.k8s.io/karpenter/pkg/events"
	"sigs.k8s.io/karpenter/pkg/operator/injection"
	"sigs.k8s.io/karpenter/pkg/operator/options"
	"sigs.k8s.io/karpenter/pkg/test"
	nodepoolutils "sigs.k8s.io/karpenter/pkg/utils/nodepool"
)

// Run schedules in.Pods with Karpenter's scheduler and returns its plan.
// The scheduler is built as Karpenter's own scheduling benchmark builds it
// (sigs.k8s.io/karpenter pkg/controllers/provisioning/scheduling/
// scheduling_benchmark_test.go, setupScheduler): a fake cloud provider, a
// fake kube client, a fresh cluster state and topology, no existing nodes;
// with the options the provisioner passes (pkg/controllers/provisioning/
// provisioner.go, Schedule). workers is the scheduler's parallelism
// (the provisioner derives it from its CPU requests).
func Run(ctx context.Context, in *Input, workers int) (*Plan, error) {
	its, err := instanceTypes(in.InstanceTypes)
	if err != nil {
		return nil, fmt.Errorf("reading instance types: %w", err)
	}
	pools, err := nodePools(in.NodePools)
	if err != nil {
		return nil, fmt.Errorf("reading node pools: %w", err)
	}
	if len(pools) == 0 {
		return nil, errors.New("the input has no node pools: Karpenter can launch nothing")
	}
	podList, err := pods(in.Pods, "pod")
	if err != nil {
		return nil, fmt.Errorf("reading pods: %w", err)
	}
	daemons, err := pods(in.DaemonSets, "daemonset")
	if err != nil {
		return nil, fmt.Errorf("reading daemonsets: %w", err)
	}
	// Karpenter tries pools in weight order (provisioner.NewScheduler).
	nodepoolutils.OrderByWeight(pools)
	// Each pool gets its own copies: Karpenter's provider resolves the
	// catalog per pool, and the scheduler may mutate instance types.
	byPool := map[string][]*cloudprovider.InstanceType{}
	for _, np := range pools {
		byPool[np.Name], err = instanceTypes(in.InstanceTypes)
		if err != nil {
			return nil, err
		}
	}

	opts := test.Options()
	opts.CPURequests = int64(workers) * 1000
	ctx = options.ToContext(injection.WithControllerName(ctx, "provisioner"), opts)
	schedOpts := []karpsched.Options{
		karpsched.DisableReservedCapacityFallback,
		karpsched.NumConcurrentReconciles(workers),
		karpsched.MinValuesPolicy(opts.MinValuesPolicy),
	}

	setup := time.Now()
	cloudProvider := fake.NewCloudProvider()
	cloudProvider.InstanceTypes = its
	kube := fakecr.NewFakeClient()
	clk := &clock.RealClock{}
	cluster := state.NewCluster(clk, kube, cloudProvider)
	topology, err := karpsched.NewTopology(ctx, kube, cluster, nil, pools, byPool, podList, schedOpts...)
	if err != nil {
		return nil, fmt.Errorf("building Karpenter's topology: %w", err)
	}
	scheduler := karpsched.NewScheduler(ctx, kube, pools, cluster, nil, topology, byPool, daemons,
		events.NewRecorder(&record.FakeRecorder{}), clk, nil, nil, schedOpts...)
	setupSeconds := time.Since(setup).Seconds()

	start := time.Now()
	results, err := scheduler.Solve(ctx, podList)
	solveSeconds := time.Since(start).Seconds()
	if err != nil {
		return nil, fmt.Errorf("Karpenter's Solve: %w", err)
	}
	return plan(results, solveSeconds, setupSeconds), nil
}

func plan(results karpsched.Results, solveSeconds, setupSeconds float64) *Plan {
	out := &Plan{
		SolveSeconds:  solveSeconds,
		SetupSeconds:  setupSeconds,
		NodeClaims:    make([]NodeClaim, 0, len(results.NewNodeClaims)),
		ExistingNodes: []ExistingNode{},
		Unschedulable: []Unschedulable{},
	}
	for _, nc := range results.NewNodeClaims {
		options := cloudprovider.InstanceTypes(append([]*cloudprovider.InstanceType(nil), nc.InstanceTypeOptions...))
		options = options.OrderByPrice(nc.Requirements)
		names := make([]string, len(options))
		for i, it := range options {
			names[i] = it.Name
		}
		out.NodeClaims = append(out.NodeClaims, NodeClaim{
			NodePool:      nc.NodePoolName,
			InstanceTypes: names,
			Requirements:  claimRequirements(nc.Requirements, options),
			Pods:          podIDs(nc.Pods),
			Price:         cheapestPrice(nc.Requirements, options),
		})
	}
	for _, en := range results.ExistingNodes {
		out.ExistingNodes = append(out.ExistingNodes, ExistingNode{Node: en.Name(), Pods: podIDs(en.Pods)})
	}
	for p, err := range results.PodErrors {
		out.Unschedulable = append(out.Unschedulable, Unschedulable{Pod: podID(p), Reason: err.Error()})
	}
	sort.Slice(out.Unschedulable, func(i, j int) bool { return out.Unschedulable[i].Pod < out.Unschedulable[j].Pod })
	return out
}

func podIDs(ps []*corev1.Pod) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = podID(p)
	}
	return out
}
