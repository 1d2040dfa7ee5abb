package provisioning

import (
	"context"
	"fmt"
	"slices"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/utils/namespaces"
	"github.com/nodewright/nodewright/controller/utils/resources"
	"github.com/nodewright/nodewright/controller/utils/volumes"
)

// NominatedAnnotationKey marks a pending pod that a NodeClaim still in
// flight was created (or counted) for, so the next batch neither launches a
// second node for it nor hands its share of the claim to other pods. It only
// holds while the named NodeClaim exists and is not being deleted.
const NominatedAnnotationKey = v1.Group + "/nominated-nodeclaim"

// Snapshot is the cluster as one batch sees it. Nodes and claims are read
// before pods, so capacity that appears meanwhile is not counted twice.
type Snapshot struct {
	// Pending are the pods that need a node from nodewright (Provisionable),
	// from the same pod list as the rest: a pod bound meanwhile counts on
	// its node or as pending, never both.
	Pending       []*corev1.Pod
	Nodes         []*scheduling.ExistingNode
	PodsElsewhere []scheduling.PodOnDomain
	// Deleting are the reschedulable pods of Nodes being deleted (the Node
	// or its NodeClaim): a batch finds them capacity before they are
	// evicted, as Karpenter's provisioner does for nodes marked for
	// deletion. They are not in PodsElsewhere.
	Deleting   []scheduling.PodOnDomain
	DaemonSets []*corev1.Pod
	NodePools  []*v1.NodePool
	// Claims by name, every NodeClaim including those being deleted.
	Claims map[string]*v1.NodeClaim
	// Usage per NodePool: launched capacity, plus the estimated capacity of
	// claims not launched yet, and "nodes" counting every live claim.
	Usage map[string]corev1.ResourceList
	// InstanceTypes per NodePool in NodePools.
	InstanceTypes map[string][]*scheduling.InstanceType
	// NodeVolumes per NodePool in NodePools: the $/h of each node's volumes.
	NodeVolumes map[string]float64
	// LeftOut are the pools not in NodePools: not being deleted, but
	// unable to launch.
	LeftOut []LeftOut
	// VolumeRequirements are the node requirements of the claims the
	// solve's pods use, by "namespace/claim" (volumeRequirements).
	VolumeRequirements map[string][]corev1.NodeSelectorRequirement
	// VolumeDrivers name the CSI driver of each such claim's volume.
	VolumeDrivers map[string]string
	// Waiting are pods that wait for their volumes, with why.
	Waiting []*scheduling.Unschedulable
	// NamespaceLabels are the namespaces' labels, by name.
	NamespaceLabels map[string]map[string]string
}

// LeftOut is a NodePool a batch cannot launch for, and why. One broken
// pool must not hold up the others: it is left out of the solve, and its
// pods may still go to other pools.
type LeftOut struct {
	NodePool *v1.NodePool
	// Reason is v1.ReasonNodeClassNotFound, NodeClassDeleting,
	// NodeClassNotReady, or ReasonInstanceTypesUnavailable.
	Reason  string
	Message string
}

// ReasonInstanceTypesUnavailable: the cloud provider could not list the
// pool's instance types.
const ReasonInstanceTypesUnavailable = "InstanceTypesUnavailable"

// nodeClassProblem says why a NodePool's node class can't launch nodes, or
// "" when it may (v1.NodePool.NodeClassProblem). A class that was never
// resolved (no Ready condition) is left to the cloud provider, whose
// InstanceTypes knows whether it has what a launch needs. The error is for
// failed reads, not for a missing class.
func (p *Provisioner) nodeClassProblem(ctx context.Context, np *v1.NodePool) (reason, message string, err error) {
	var nc *v1.EC2NodeClass
	if name, ok := np.NodeClassName(); ok {
		nc = &v1.EC2NodeClass{}
		if err := p.reader.Get(ctx, client.ObjectKey{Name: name}, nc); err != nil {
			if !apierrors.IsNotFound(err) {
				return "", "", fmt.Errorf("getting ec2nodeclass %s: %w", name, err)
			}
			nc = nil
		}
	}
	reason, message = np.NodeClassProblem(nc)
	if reason == v1.ReasonNodeClassNotReady {
		if status, _ := nc.Readiness(); status == metav1.ConditionUnknown {
			return "", "", nil
		}
	}
	return reason, message, nil
}

// nodeVolumeCost is the pool's per-node volume cost; a cost the cloud
// provider can only partly price is used as it is (a lower bound), since
// an unpriced volume must not stop the pool from launching.
func (p *Provisioner) nodeVolumeCost(ctx context.Context, np *v1.NodePool) float64 {
	usd, err := p.cloud.NodeVolumeCost(ctx, np)
	if err != nil {
		log.FromContext(ctx).V(1).Info("node volume cost is partial", "nodepool", np.Name, "usdPerHour", usd, "error", err.Error())
	}
	return usd
}

// TakeSnapshot reads nodes, their pods, NodeClaims, daemonsets and NodePools.
func (p *Provisioner) TakeSnapshot(ctx context.Context) (*Snapshot, error) {
	s := &Snapshot{Claims: map[string]*v1.NodeClaim{}, Usage: map[string]corev1.ResourceList{}, InstanceTypes: map[string][]*scheduling.InstanceType{},
		NodeVolumes: map[string]float64{}}
	var pools v1.NodePoolList
	if err := p.reader.List(ctx, &pools); err != nil {
		return nil, fmt.Errorf("listing nodepools: %w", err)
	}
	for i := range pools.Items {
		np := &pools.Items[i]
		if !np.DeletionTimestamp.IsZero() {
			continue
		}
		reason, message, err := p.nodeClassProblem(ctx, np)
		if err != nil {
			return nil, fmt.Errorf("reading node class of nodepool %s: %w", np.Name, err)
		}
		var types []*scheduling.InstanceType
		if reason == "" {
			if types, err = p.cloud.InstanceTypes(ctx, np); err != nil {
				reason, message = ReasonInstanceTypesUnavailable, err.Error()
			}
		}
		if reason != "" {
			s.LeftOut = append(s.LeftOut, LeftOut{NodePool: np, Reason: reason, Message: message})
			log.FromContext(ctx).Info("leaving nodepool out of provisioning", "nodepool", np.Name, "reason", reason, "message", message)
			continue
		}
		s.NodePools = append(s.NodePools, np)
		s.InstanceTypes[np.Name] = types
		s.NodeVolumes[np.Name] = p.nodeVolumeCost(ctx, np)
	}
	claims, err := p.listClaims(ctx)
	if err != nil {
		return nil, err
	}
	var nodes corev1.NodeList
	if err := p.reader.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	if err := volumes.AttachLimits(ctx, p.reader, nodes.Items); err != nil {
		return nil, err
	}
	pods, err := p.listPods(ctx)
	if err != nil {
		return nil, err
	}
	var daemonsets appsv1.DaemonSetList
	if err := p.reader.List(ctx, &daemonsets); err != nil {
		return nil, fmt.Errorf("listing daemonsets: %w", err)
	}
	if s.NamespaceLabels, err = namespaces.Labels(ctx, p.reader); err != nil {
		return nil, err
	}
	for i := range daemonsets.Items {
		ds := &daemonsets.Items[i]
		s.DaemonSets = append(s.DaemonSets, &corev1.Pod{ObjectMeta: *ds.Spec.Template.ObjectMeta.DeepCopy(), Spec: *ds.Spec.Template.Spec.DeepCopy()})
		s.DaemonSets[len(s.DaemonSets)-1].Namespace = ds.Namespace
	}

	byNode := map[string][]*corev1.Pod{}
	byClaim := map[string][]*corev1.Pod{}
	for i := range pods.Items {
		pod := &pods.Items[i]
		if terminal(pod) {
			continue
		}
		if pod.Spec.NodeName != "" {
			byNode[pod.Spec.NodeName] = append(byNode[pod.Spec.NodeName], pod)
		} else if name := pod.Annotations[NominatedAnnotationKey]; name != "" {
			byClaim[name] = append(byClaim[name], pod)
		}
	}
	claimByProvider := map[string]*v1.NodeClaim{}
	for i := range claims.Items {
		nc := &claims.Items[i]
		s.Claims[nc.Name] = nc
		if nc.Status.ProviderID != "" {
			claimByProvider[nc.Status.ProviderID] = nc
		}
	}
	hasNode := map[string]bool{}
	for i := range nodes.Items {
		node := &nodes.Items[i]
		nc := claimByProvider[node.Spec.ProviderID]
		if nc != nil {
			hasNode[nc.Name] = true
		}
		usable := node.DeletionTimestamp.IsZero() && !node.Spec.Unschedulable && (nc == nil || nc.DeletionTimestamp.IsZero())
		if !usable {
			deleting := !node.DeletionTimestamp.IsZero() || (nc != nil && !nc.DeletionTimestamp.IsZero())
			for _, pod := range byNode[node.Name] {
				if deleting && movesOff(pod) {
					s.Deleting = append(s.Deleting, scheduling.PodOnDomain{Pod: pod, NodeLabels: node.Labels})
					continue
				}
				s.PodsElsewhere = append(s.PodsElsewhere, scheduling.PodOnDomain{Pod: pod, NodeLabels: node.Labels})
			}
			continue
		}
		en := &scheduling.ExistingNode{Name: node.Name, Labels: node.Labels, Taints: node.Spec.Taints,
			Allocatable: node.Status.Allocatable, Pods: byNode[node.Name], NodePool: node.Labels[v1.NodePoolLabelKey]}
		if NominationHolds(nc) {
			// Pods nominated to the claim are on their way to this node, and
			// the taints it starts with are on their way off.
			en.Pods = append(en.Pods, byClaim[nc.Name]...)
			en.Taints = lastingTaints(node.Spec.Taints, nc.Spec.StartupTaints)
		}
		s.Nodes = append(s.Nodes, en)
	}
	for _, nc := range sortedClaims(s.Claims) {
		pool := nc.Labels[v1.NodePoolLabelKey]
		capacity := nc.Status.Capacity
		if len(capacity) == 0 {
			capacity = p.estimate(nc, s.InstanceTypes[pool])
		}
		if nc.DeletionTimestamp.IsZero() {
			s.addUsage(pool, capacity)
		}
		if hasNode[nc.Name] || !nc.DeletionTimestamp.IsZero() {
			continue
		}
		alloc := nc.Status.Allocatable
		if len(alloc) == 0 {
			alloc = capacity
		}
		if len(alloc) == 0 {
			continue
		}
		s.Nodes = append(s.Nodes, &scheduling.ExistingNode{Name: nc.Name, Labels: claimLabels(nc), Taints: nc.Spec.Taints,
			Allocatable: withAttachLimits(alloc, nc, s.InstanceTypes[pool]), Pods: byClaim[nc.Name], NodePool: pool})
	}
	live := func(name string) bool { return NominationHolds(s.Claims[name]) }
	for i := range pods.Items {
		if Provisionable(&pods.Items[i], live) {
			s.Pending = append(s.Pending, &pods.Items[i])
		}
	}
	return s, nil
}

// lastingTaints leaves out of a starting node's taints those that go once it
// is up: the cluster's (v1.EphemeralTaints) and the claim's startup taints.
// Counting them would plan a second node for a pod the first will take.
func lastingTaints(taints, startup []corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range taints {
		if v1.IsEphemeralTaint(t) || slices.ContainsFunc(startup, func(s corev1.Taint) bool { return s.MatchTaint(&t) }) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// movesOff: a pod on a deleting node that will need a place elsewhere (not
// already going, not a daemonset's or a static pod's mirror).
func movesOff(pod *corev1.Pod) bool {
	_, mirror := pod.Annotations[corev1.MirrorPodAnnotationKey]
	return pod.DeletionTimestamp.IsZero() && !mirror && scheduling.Reschedulable(pod)
}

func (s *Snapshot) addUsage(pool string, capacity corev1.ResourceList) {
	u := s.Usage[pool]
	if u == nil {
		u = corev1.ResourceList{}
		s.Usage[pool] = u
	}
	for k, q := range capacity {
		sum := u[k]
		sum.Add(q)
		u[k] = sum
	}
	nodes := u["nodes"]
	nodes.Add(*resource.NewQuantity(1, resource.DecimalSI))
	u["nodes"] = nodes
}

// poolsByName are the batch's NodePools by name.
func (s *Snapshot) poolsByName() map[string]*v1.NodePool {
	out := make(map[string]*v1.NodePool, len(s.NodePools))
	for _, np := range s.NodePools {
		out[np.Name] = np
	}
	return out
}

func sortedClaims(m map[string]*v1.NodeClaim) []*v1.NodeClaim {
	out := make([]*v1.NodeClaim, 0, len(m))
	for _, nc := range m {
		out = append(out, nc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// claimLabels are the labels the claim's node will have: its own, plus
// every requirement narrowed to a single value.
func claimLabels(nc *v1.NodeClaim) map[string]string {
	out := map[string]string{}
	reqs, err := scheduling.NewRequirements(nodeSelector(nc.Spec.Requirements)...)
	if err == nil {
		for _, k := range reqs.Keys() {
			if v, ok := reqs.Single(k); ok {
				out[k] = v
			}
		}
	}
	for k, v := range nc.Labels {
		out[k] = v
	}
	return out
}

// estimate is the allocatable of the cheapest available offering the
// claim's requirements allow: what the cloud provider will most likely
// withAttachLimits adds to a launched claim's allocatable the attach
// limits of its instance type, which kubelet does not report: the node's
// CSINode will publish them once it joins.
func withAttachLimits(alloc corev1.ResourceList, nc *v1.NodeClaim, types []*scheduling.InstanceType) corev1.ResourceList {
	name := nc.Labels[corev1.LabelInstanceTypeStable]
	for _, it := range types {
		if it.Name != name {
			continue
		}
		out := alloc.DeepCopy()
		for r, q := range it.Allocatable {
			if _, ok := alloc[r]; !ok && resources.IsAttachLimit(r) {
				out[r] = q
			}
		}
		return out
	}
	return alloc
}

// launch.
func (p *Provisioner) estimate(nc *v1.NodeClaim, types []*scheduling.InstanceType) corev1.ResourceList {
	reqs, err := scheduling.NewRequirements(nodeSelector(nc.Spec.Requirements)...)
	if err != nil {
		return nil
	}
	var best *scheduling.InstanceType
	bestPrice := 0.0
	for _, it := range types {
		if !reqs.Allows(it.Labels) || !resources.Fits(nc.Spec.Resources.Requests, it.Allocatable) {
			continue
		}
		for _, off := range it.Offerings {
			if !off.Available || !reqs.AllowsValue(corev1.LabelTopologyZone, off.Zone) || !reqs.AllowsValue(v1.CapacityTypeLabelKey, off.CapacityType) {
				continue
			}
			if best == nil || off.Price < bestPrice {
				best, bestPrice = it, off.Price
			}
		}
	}
	if best == nil {
		return nil
	}
	return best.Allocatable.DeepCopy()
}

func nodeSelector(reqs []v1.NodeSelectorRequirementWithMinValues) []corev1.NodeSelectorRequirement {
	out := make([]corev1.NodeSelectorRequirement, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, corev1.NodeSelectorRequirement{Key: r.Key, Operator: r.Operator, Values: r.Values})
	}
	return out
}

func terminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}
