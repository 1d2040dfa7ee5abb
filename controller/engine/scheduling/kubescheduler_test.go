package scheduling

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestSpreadCountsAsKubeSchedulerDoes holds, as plain cases, the
// disagreements test/kubescheduler found when it ran kube-scheduler's own
// filters on random plans (seeds named). Each failed before its fix.
func TestSpreadCountsAsKubeSchedulerDoes(t *testing.T) {
	web := func(name string, opts ...podOpt) *corev1.Pod {
		return pod(name, "100m", "128Mi", append([]podOpt{podLabels("app", "web")}, opts...)...)
	}
	const tier = "tier"
	dedicated := taint("dedicated", "batch", corev1.TaintEffectNoSchedule)
	full := func(n *ExistingNode) { n.Allocatable[corev1.ResourcePods] = q("0") }
	runSolveCases(t, []solveCase{
		// Seed 74: a domain is known from its nodes, not only from the pods
		// counted there. "gold" holds no web pod, so it is the emptiest
		// domain, and a second web pod on "silver" would skew 2.
		{name: "an existing node's domain counts though no pod matches there",
			in: Input{Pods: pods(web("new", spread(tier, 1, "app", "web"))),
				Nodes: []*ExistingNode{
					existing("silver", zoneA, "4", "8Gi", nodeLabel(tier, "silver"), running(web("old"))),
					existing("gold", zoneA, "4", "8Gi", nodeLabel(tier, "gold")),
				}},
			want: []string{"node gold: new"}},
		// Seed 2502: with nodeTaintsPolicy Honor, pods on a node whose taint
		// the pod does not tolerate do not count in their zone. zone-a then
		// holds none, and the pod may go there though zone-b is full.
		{name: "pods on a node the spread leaves out do not count",
			in: Input{Pods: pods(web("new", spread(zoneKey, 1, "app", "web", withSpreadPolicy(true)))),
				Nodes: []*ExistingNode{
					existing("tainted", zoneA, "4", "8Gi", nodeTaints(dedicated), running(web("old-0"), web("old-1"))),
					existing("a", zoneA, "4", "8Gi"),
					existing("b", zoneB, "4", "8Gi", full),
				}},
			want: []string{"node a: new"}},
		// Seed 156: a hostname spread counts an empty new node only when a
		// pool could launch one for the pod; with none, only the nodes the
		// pod could use count, and their minimum is 1.
		{name: "no new node to count for a hostname spread",
			in: Input{Pods: pods(web("new", nodeSelector(tier, "gold"), spread(corev1.LabelHostname, 1, "app", "web"))),
				Nodes: []*ExistingNode{
					existing("gold", zoneA, "4", "8Gi", nodeLabel(tier, "gold"), running(web("old"))),
					existing("silver", zoneA, "4", "8Gi", nodeLabel(tier, "silver")),
				}},
			want: []string{"node gold: new"}},
		// Where a pool can launch one, the empty node counts, as in
		// Karpenter (topologygroup.go): the pod gets a node of its own.
		{name: "a hostname spread counts a new node a pool can launch",
			in: Input{Pods: pods(web("new", spread(corev1.LabelHostname, 1, "app", "web"))),
				Nodes:     []*ExistingNode{existing("n1", zoneA, "4", "8Gi", running(web("old")))},
				NodePools: []*NodePool{defaultPool()}},
			want: []string{"claim default small zone-a on-demand: new"}},
	})
}
