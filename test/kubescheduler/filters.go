// Package kubescheduler runs kube-scheduler's own filter plugins
// (k8s.io/kubernetes pkg/scheduler, at the release the local cloud runs)
// on nodewright's plans, so the engine is checked against the scheduler
// that binds its pods rather than against a model of it. It is its own
// module: k8s.io/kubernetes never enters the product's go.mod.
package kubescheduler

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/latest"
	"k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultbinder"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/interpodaffinity"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodeaffinity"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodename"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodeports"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/noderesources"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/nodeunschedulable"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/podtopologyspread"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/queuesort"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/tainttoleration"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"k8s.io/kubernetes/pkg/scheduler/metrics"
)

// Filters are the filter plugins a plan's placements must pass: every
// default filter that decides on what a plan chooses (resources, ports,
// labels, taints, pod affinity, spread). Volume plugins need a live API
// and are left to the integration tests.
var Filters = []string{
	nodeunschedulable.Name, nodename.Name, tainttoleration.Name, nodeaffinity.Name, nodeports.Name,
	noderesources.Name, interpodaffinity.Name, podtopologyspread.Name,
}

// Checker runs Filters with kube-scheduler's default plugin arguments.
type Checker struct {
	profile  *config.KubeSchedulerProfile
	registry frameworkruntime.Registry
}

// NewChecker builds the default scheduler profile cut down to Filters.
func NewChecker() (*Checker, error) {
	// The framework counts plugin runs in the scheduler's metrics, which
	// must exist first.
	metrics.Register()
	cfg, err := latest.Default()
	if err != nil {
		return nil, fmt.Errorf("kube-scheduler default configuration: %w", err)
	}
	set := func(names ...string) config.PluginSet {
		var s config.PluginSet
		for _, n := range names {
			s.Enabled = append(s.Enabled, config.Plugin{Name: n})
		}
		return s
	}
	profile := &config.KubeSchedulerProfile{
		SchedulerName: corev1.DefaultSchedulerName,
		Plugins: &config.Plugins{
			QueueSort: set(queuesort.Name),
			PreFilter: set(noderesources.Name, nodeports.Name, nodeaffinity.Name, interpodaffinity.Name, podtopologyspread.Name),
			Filter:    set(Filters...),
			Bind:      set(defaultbinder.Name),
		},
		PluginConfig: cfg.Profiles[0].PluginConfig,
	}
	return &Checker{profile: profile, registry: plugins.NewInTreeRegistry()}, nil
}

// Check reports why kube-scheduler would not bind pod to node in a cluster
// of nodes running pods, or "" when it would. pods must not hold pod.
func (c *Checker) Check(ctx context.Context, nodes []*corev1.Node, pods []*corev1.Pod, pod *corev1.Pod, node string) (string, error) {
	// The framework runs goroutines until its context ends.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	snapshot := cache.NewSnapshot(pods, nodes)
	client := fake.NewClientset()
	f, err := frameworkruntime.NewFramework(ctx, c.registry, c.profile,
		frameworkruntime.WithSnapshotSharedLister(snapshot),
		frameworkruntime.WithClientSet(client),
		frameworkruntime.WithInformerFactory(informers.NewSharedInformerFactory(client, 0)))
	if err != nil {
		return "", fmt.Errorf("building the scheduler framework: %w", err)
	}
	state := framework.NewCycleState()
	res, status, _ := f.RunPreFilterPlugins(ctx, state, pod)
	if !status.IsSuccess() {
		return "PreFilter: " + status.Message(), nil
	}
	if !res.AllNodes() && !res.NodeNames.Has(node) {
		return fmt.Sprintf("PreFilter: only nodes %v", res.NodeNames.UnsortedList()), nil
	}
	info, err := snapshot.NodeInfos().Get(node)
	if err != nil {
		return "", fmt.Errorf("node %s: %w", node, err)
	}
	if status := f.RunFilterPlugins(ctx, state, pod, info); !status.IsSuccess() {
		return fmt.Sprintf("%s: %s", status.Plugin(), status.Message()), nil
	}
	return "", nil
}
