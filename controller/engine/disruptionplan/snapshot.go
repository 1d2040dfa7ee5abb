package disruptionplan

import (
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// NominatedAnnotationKey is the provisioner's annotation naming the
// NodeClaim a pending pod waits for (provisioning.NominatedAnnotationKey;
// repeated so this package needs no client dependencies).
const NominatedAnnotationKey = v1.Group + "/nominated-nodeclaim"

// NewSnapshot builds a snapshot: each Node joined with its NodeClaim (by
// providerID, else by the claim's status.nodeName) and pods, priced from
// its pool's offerings. NodeClaims without a Node yet are capacity that
// pods may move to, never candidates. Deleting nodes and pools are kept:
// they count against budgets.
func NewSnapshot(o Objects) (*Snapshot, error) {
	s := &Snapshot{Now: o.Now, PDBs: o.PDBs, VolumeRequirements: o.VolumeRequirements, VolumeDrivers: o.VolumeDrivers, NamespaceLabels: o.NamespaceLabels}
	pools := map[string]*Pool{}
	for _, np := range o.NodePools {
		if np == nil {
			continue
		}
		if _, dup := pools[np.Name]; dup {
			return nil, fmt.Errorf("nodepool %s is listed twice", np.Name)
		}
		p := &Pool{NodePool: np, Scheduling: scheduling.NodePoolFor(np, o.InstanceTypes[np.Name])}
		p.Scheduling.NodeCost.Volumes = o.NodeVolumes[np.Name]
		pools[np.Name] = p
		s.Pools = append(s.Pools, p)
	}
	for _, ds := range o.DaemonSets {
		pod := &corev1.Pod{ObjectMeta: *ds.Spec.Template.ObjectMeta.DeepCopy(), Spec: *ds.Spec.Template.Spec.DeepCopy()}
		pod.Namespace = ds.Namespace
		s.DaemonSets = append(s.DaemonSets, pod)
	}

	byNode := map[string][]*corev1.Pod{}
	byClaim := map[string][]*corev1.Pod{}
	for _, p := range o.Pods {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if p.Spec.NodeName != "" {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
		} else if claim := p.Annotations[NominatedAnnotationKey]; claim != "" {
			byClaim[claim] = append(byClaim[claim], p)
		}
	}
	byProvider := map[string]*v1.NodeClaim{}
	byNodeName := map[string]*v1.NodeClaim{}
	for _, nc := range o.NodeClaims {
		if nc.Status.ProviderID != "" {
			byProvider[nc.Status.ProviderID] = nc
		}
		if nc.Status.NodeName != "" {
			byNodeName[nc.Status.NodeName] = nc
		}
	}
	joined := map[string]bool{}
	for _, node := range o.Nodes {
		nc := byProvider[node.Spec.ProviderID]
		if nc == nil || node.Spec.ProviderID == "" {
			nc = byNodeName[node.Name]
		}
		n := &Node{ExistingNode: scheduling.ExistingNode{
			Name: node.Name, Labels: node.Labels, Taints: node.Spec.Taints,
			Allocatable: node.Status.Allocatable, Pods: byNode[node.Name],
		}}
		n.InstanceType = node.Labels[corev1.LabelInstanceTypeStable]
		n.Zone = node.Labels[corev1.LabelTopologyZone]
		n.CapacityType = node.Labels[v1.CapacityTypeLabelKey]
		_, dnd, _ := v1.DoNotDisrupt(node.Annotations)
		n.DoNotDisrupt = dnd == "true"
		n.Deleting = !node.DeletionTimestamp.IsZero() || hasTaint(node.Spec.Taints, v1.DisruptedNoScheduleTaint)
		switch {
		case nc != nil:
			joined[nc.Name] = true
			n.NodeClaim = nc.Name
			n.NodePool = nc.Labels[v1.NodePoolLabelKey]
			n.Created = nc.CreationTimestamp.Time
			n.LastPodEvent = nc.Status.LastPodEventTime.Time
			n.Initialized = meta.IsStatusConditionTrue(nc.Status.Conditions, v1.ConditionTypeInitialized)
			n.Drifted = drifted(nc)
			n.Deleting = n.Deleting || !nc.DeletionTimestamp.IsZero()
			_, dnd, _ := v1.DoNotDisrupt(nc.Annotations)
			n.DoNotDisrupt = n.DoNotDisrupt || dnd == "true"
			fillFromClaim(n, nc)
			// Pods nominated to the claim are on their way: their room is taken.
			if nominated := byClaim[nc.Name]; len(nominated) > 0 {
				n.Pods = append(append([]*corev1.Pod(nil), n.Pods...), nominated...)
			}
		case o.AdoptLabelledNodes && node.Labels[v1.NodePoolLabelKey] != "":
			n.NodeClaim = node.Name
			n.NodePool = node.Labels[v1.NodePoolLabelKey]
			n.Created = node.CreationTimestamp.Time
			n.Initialized = nodeReady(node)
		}
		if p := pools[n.NodePool]; p != nil {
			n.Price = scheduling.ExistingCost(p.Scheduling, n.InstanceType, n.Zone, n.CapacityType, n.Pods).Total()
		}
		s.Nodes = append(s.Nodes, n)
	}
	// In-flight claims: capacity the pods of a removed node may use.
	for _, nc := range o.NodeClaims {
		if joined[nc.Name] || !nc.DeletionTimestamp.IsZero() {
			continue
		}
		alloc := nc.Status.Allocatable
		if len(alloc) == 0 {
			alloc = nc.Status.Capacity
		}
		if len(alloc) == 0 {
			continue
		}
		labels := map[string]string{}
		for k, v := range nc.Labels {
			labels[k] = v
		}
		n := &Node{ExistingNode: scheduling.ExistingNode{Name: nc.Name, Labels: labels, Taints: nc.Spec.Taints,
			Allocatable: alloc, Pods: byClaim[nc.Name], NodePool: nc.Labels[v1.NodePoolLabelKey]},
			NodeClaim: nc.Name, Created: nc.CreationTimestamp.Time}
		fillFromClaim(n, nc)
		if p := pools[n.NodePool]; p != nil {
			n.Price = scheduling.ExistingCost(p.Scheduling, n.InstanceType, n.Zone, n.CapacityType, n.Pods).Total()
		}
		s.Nodes = append(s.Nodes, n)
	}
	sort.SliceStable(s.Nodes, func(i, j int) bool { return s.Nodes[i].Name < s.Nodes[j].Name })
	return s, nil
}

// fillFromClaim takes the instance type, zone and capacity type from the
// claim's labels where the node doesn't say.
func fillFromClaim(n *Node, nc *v1.NodeClaim) {
	if n.InstanceType == "" {
		n.InstanceType = nc.Labels[corev1.LabelInstanceTypeStable]
	}
	if n.Zone == "" {
		n.Zone = nc.Labels[corev1.LabelTopologyZone]
	}
	if n.CapacityType == "" {
		n.CapacityType = nc.Labels[v1.CapacityTypeLabelKey]
	}
}

// drifted is the claim's Drifted message (its reason when the message is
// empty), or "" when the claim has not drifted.
func drifted(nc *v1.NodeClaim) string {
	c := meta.FindStatusCondition(nc.Status.Conditions, v1.ConditionTypeDrifted)
	if c == nil || c.Status != "True" {
		return ""
	}
	switch {
	case c.Message != "":
		return c.Message
	case c.Reason != "":
		return c.Reason
	}
	return "drifted"
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func hasTaint(taints []corev1.Taint, t corev1.Taint) bool {
	for _, x := range taints {
		if x.Key == t.Key && x.Effect == t.Effect {
			return true
		}
	}
	return false
}

// FromInput turns a scheduling input (a synthetic cluster, or one read by
// `nodewright simulate`) into a snapshot: nodes with a NodePool are that
// pool's, initialized, created age ago and priced from the pool's
// offerings; each pool gets a v1.NodePool from newPool (nil: consolidate
// when empty or underutilized, at once, within the default budget).
func FromInput(in scheduling.Input, now time.Time, age time.Duration, newPool func(*scheduling.NodePool) *v1.NodePool) *Snapshot {
	s := &Snapshot{Now: now, DaemonSets: in.DaemonSets, PodsElsewhere: in.PodsElsewhere, VolumeRequirements: in.VolumeRequirements, VolumeDrivers: in.VolumeDrivers,
		NamespaceLabels: in.NamespaceLabels}
	pools := map[string]*scheduling.NodePool{}
	for _, sp := range in.NodePools {
		var np *v1.NodePool
		if newPool != nil {
			np = newPool(sp)
		}
		if np == nil {
			np = &v1.NodePool{}
			np.Name = sp.Name
			np.Spec.Disruption = v1.Disruption{ConsolidationPolicy: v1.ConsolidationPolicyWhenEmptyOrUnderutilized, ConsolidateAfter: "0s"}
		}
		s.Pools = append(s.Pools, &Pool{NodePool: np, Scheduling: sp})
		pools[sp.Name] = sp
	}
	for _, en := range in.Nodes {
		n := &Node{ExistingNode: *en}
		n.InstanceType = en.Labels[corev1.LabelInstanceTypeStable]
		n.Zone = en.Labels[corev1.LabelTopologyZone]
		n.CapacityType = en.Labels[v1.CapacityTypeLabelKey]
		if en.NodePool != "" {
			n.NodeClaim = en.Name
			n.Initialized = true
			n.Created = now.Add(-age)
			n.Price = scheduling.ExistingCost(pools[en.NodePool], n.InstanceType, n.Zone, n.CapacityType, en.Pods).Total()
		}
		s.Nodes = append(s.Nodes, n)
	}
	return s
}
