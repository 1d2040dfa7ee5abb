package provisioning

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/utils/nodeclaim"
	"github.com/nodewright/nodewright/controller/utils/nodepool"
)

// Options tune the provisioner.
type Options struct {
	// BatchIdleDuration closes a batch once no pod has become pending for
	// this long. Default 1 s.
	BatchIdleDuration time.Duration
	// BatchMaxDuration closes a batch this long after its first pod,
	// however busy. Default 10 s.
	BatchMaxDuration time.Duration
	// Reader, when set, serves the batch's reads instead of the client (a
	// manager's cache). A cache may not show the NodeClaims and the pod
	// nominations of the previous batch yet: the provisioner keeps both in
	// memory until it does.
	Reader client.Reader
	// APIReader reads past the cache: whether a NodeClaim this provisioner
	// created, which the cache has not shown for a while, still exists.
	// Default Reader.
	APIReader client.Reader
	// RecordSolve, when set, is given every batch's solve before any
	// NodeClaim is created (`controller --record-solves`). It runs in the
	// batch loop: an error is logged and the batch goes on.
	RecordSolve func(context.Context, *SolveRecord) error
}

// SolveRecord is one batch's solve: what the engine was given and what it
// chose. Nothing in it may be changed.
type SolveRecord struct {
	// Began is when the batch began.
	Began    time.Time
	Snapshot *Snapshot
	Input    scheduling.Input
	Result   *scheduling.Result
	// SolveTime is how long scheduling.Solve took.
	SolveTime time.Duration
}

func (o Options) withDefaults() Options {
	if o.BatchIdleDuration <= 0 {
		o.BatchIdleDuration = time.Second
	}
	if o.BatchMaxDuration <= 0 {
		o.BatchMaxDuration = 10 * time.Second
	}
	return o
}

// Event reasons.
const (
	ReasonNominated           = "Nominated"
	ReasonNodeClaimNotCreated = "NodeClaimNotCreated"
	ReasonLimitReached        = "LimitReached"
	// ReasonNodePoolUnavailable: a pod that fits no pool of the batch would
	// fit a pool left out of it (see LeftOut).
	ReasonNodePoolUnavailable = "NodePoolUnavailable"
)

// Provisioner turns batches of unschedulable pods into NodeClaims.
type Provisioner struct {
	kube     client.Client
	reader   client.Reader
	cloud    cloudprovider.CloudProvider
	clock    clock.Clock
	recorder events.EventRecorder
	batcher  *Batcher
	// recordSolve is Options.RecordSolve.
	recordSolve func(context.Context, *SolveRecord) error
	// nominations are pod UID -> NodeClaim, for pods whose annotation may
	// not be written yet (listPods); nominating counts batches whose
	// annotations are being written.
	nominations sync.Map
	nominating  sync.WaitGroup
	// apiReader is Options.APIReader; created are the NodeClaims this
	// provisioner created that the reader has not shown yet (listClaims).
	apiReader client.Reader
	created   sync.Map
}

// New returns a Provisioner. Start runs its batching loop; Trigger feeds it.
func New(kube client.Client, cloud cloudprovider.CloudProvider, clk clock.Clock, recorder events.EventRecorder, opts Options) *Provisioner {
	opts = opts.withDefaults()
	reader := opts.Reader
	if reader == nil {
		reader = kube
	}
	apiReader := opts.APIReader
	if apiReader == nil {
		apiReader = reader
	}
	return &Provisioner{kube: kube, reader: reader, apiReader: apiReader, cloud: cloud, clock: clk, recorder: recorder,
		batcher: NewBatcher(clk, opts.BatchIdleDuration, opts.BatchMaxDuration), recordSolve: opts.RecordSolve}
}

// Trigger says something (a pod, by UID, or a claim or pool that changed)
// may need a batch; the next batch will look at it.
func (p *Provisioner) Trigger(what string) { p.batcher.Trigger(what) }

// Start runs batches until ctx ends. It is a manager.Runnable.
func (p *Provisioner) Start(ctx context.Context) error {
	defer p.WaitNominations()
	for p.batcher.Wait(ctx) {
		if _, err := p.Schedule(ctx); err != nil {
			log.FromContext(ctx).Error(err, "provisioning batch failed")
			// Pods stay pending; try again shortly rather than wait for
			// another pod event.
			go func() {
				select {
				case <-ctx.Done():
				case <-p.clock.After(5 * time.Second):
					p.Trigger("retry")
				}
			}()
		}
	}
	return nil
}

// NeedLeaderElection: only the leader launches nodes.
func (p *Provisioner) NeedLeaderElection() bool { return true }

// Unschedulable reports whether kube-scheduler gave up on the pod.
func Unschedulable(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable
		}
	}
	return false
}

// NominationHolds reports whether a pod nominated to nc still waits for it:
// the claim is live and its node not yet initialized. Once the node is up,
// kube-scheduler has had it to place the pod on; a pod it still leaves
// unschedulable does not fit there (other pods took the room the plan
// meant for it), and waiting for the claim would leave it Pending for as
// long as the node lives. Karpenter bounds a nomination in time for the
// same reason.
func NominationHolds(nc *v1.NodeClaim) bool {
	return nc != nil && nc.DeletionTimestamp.IsZero() && !nc.IsTrue(v1.ConditionTypeInitialized)
}

// Provisionable reports whether a pod needs a node from nodewright:
// kube-scheduler marked it unschedulable, and nothing is already on its way
// for it. claimLive says whether the nomination to a NodeClaim holds
// (NominationHolds).
func Provisionable(pod *corev1.Pod, claimLive func(name string) bool) bool {
	if !Unschedulable(pod) || pod.Spec.NodeName != "" || !pod.DeletionTimestamp.IsZero() || terminal(pod) {
		return false
	}
	if pod.Status.NominatedNodeName != "" {
		return false
	}
	for _, o := range pod.OwnerReferences {
		if o.Kind == "DaemonSet" && o.Controller != nil && *o.Controller {
			return false
		}
	}
	if name := pod.Annotations[NominatedAnnotationKey]; name != "" && claimLive(name) {
		return false
	}
	return true
}

// Schedule runs one batch: snapshot, pending pods, solve, create NodeClaims.
// It returns the plan.
func (p *Provisioner) Schedule(ctx context.Context) (*scheduling.Result, error) {
	logger := log.FromContext(ctx)
	began := p.clock.Now()
	snap, err := p.TakeSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	pending := slices.Clone(snap.Pending)
	// Pods of deleting nodes too, after the pending ones, so that a pod
	// caught between eviction and its replacement is undercounted rather
	// than counted twice.
	for _, pd := range snap.Deleting {
		pending = append(pending, pd.Pod)
	}
	if pending, err = p.volumeRequirements(ctx, snap, pending); err != nil {
		return nil, err
	}
	logger.V(1).Info("took cluster snapshot", "duration", p.clock.Since(began).String(), "pending", len(pending), "onDeletingNodes", len(snap.Deleting),
		"waitingForVolumes", len(snap.Waiting))
	if len(pending)+len(snap.Waiting) == 0 {
		return &scheduling.Result{}, nil
	}
	logger.Info("found provisionable pods", "count", len(pending), "onDeletingNodes", len(snap.Deleting))
	in := p.input(snap, pending)
	solveStart := p.clock.Now()
	res, err := scheduling.Solve(in)
	if err != nil {
		return nil, fmt.Errorf("solving %d pods: %w", len(pending), err)
	}
	podsPending.Observe(float64(len(pending)))
	solveDuration.Observe(p.clock.Since(solveStart).Seconds())
	for _, placed := range res.ExistingNodes {
		decisions.WithLabelValues(DecisionExisting).Add(float64(len(placed.Pods)))
	}
	decisions.WithLabelValues(DecisionUnschedulable).Add(float64(len(res.Unschedulable)))
	if p.recordSolve != nil {
		// Before nominations, which the next batch's snapshot shows.
		rec := &SolveRecord{Began: began, Snapshot: snap, Input: in, Result: res, SolveTime: p.clock.Since(solveStart)}
		if err := p.recordSolve(ctx, rec); err != nil {
			logger.Error(err, "recording the solve")
		}
	}
	inFlight := map[string]bool{}
	for name, nc := range snap.Claims {
		if nc.DeletionTimestamp.IsZero() {
			inFlight[name] = true
		}
	}
	// Claims first, nominations after: a claim launches as soon as it
	// exists, and a thousand pods' annotations must not hold back the
	// instances they wait for.
	var nominations []nomination
	for _, placed := range res.ExistingNodes {
		for _, pod := range placed.Pods {
			if pod.Spec.NodeName != "" {
				// Still on its deleting node: nothing to nominate yet.
				continue
			}
			if inFlight[placed.Node] {
				nominations = append(nominations, nomination{pod, placed.Node})
			} else {
				p.recorder.Eventf(pod, nil, corev1.EventTypeNormal, ReasonNominated, "Nominate", "Nominated for node %s", placed.Node)
			}
		}
	}
	pools := snap.poolsByName()
	var errs []string
	createStart := p.clock.Now()
	ncs, createErrs := p.createPlans(ctx, pools, res.NodeClaims, nil)
	for i, plan := range res.NodeClaims {
		nc := ncs[i]
		if err := createErrs[i]; err != nil {
			err = fmt.Errorf("creating nodeclaim for nodepool %s: %w", plan.NodePool, err)
			errs = append(errs, err.Error())
			for _, pod := range plan.Pods {
				p.recorder.Eventf(pod, nil, corev1.EventTypeWarning, ReasonNodeClaimNotCreated, "Provision", "Creating a nodeclaim failed: %v", err)
			}
			continue
		}
		chosen := plan.Chosen()
		logger.Info("created nodeclaim", "nodeclaim", nc.Name, "nodepool", plan.NodePool,
			"instanceTypes", plan.InstanceTypes, "cheapest", chosen.InstanceType.Name, "zone", chosen.Offering.Zone,
			"capacityType", chosen.Offering.CapacityType, "price", chosen.Offering.Price, "cost", chosen.Cost.Total(),
			"costParts", chosen.Cost, "pods", len(plan.Pods))
		nodeClaimsCreated.WithLabelValues(plan.NodePool).Inc()
		decisions.WithLabelValues(DecisionNew).Add(float64(len(plan.Pods)))
		for _, pod := range plan.Pods {
			nominations = append(nominations, nomination{pod, nc.Name})
		}
	}
	created := p.clock.Now()
	p.nominateAll(ctx, nominations)
	// Where a batch's time goes, for a user asking why pods waited.
	logger.Info("provisioned batch", "pods", len(pending), "nodeclaims", len(res.NodeClaims)-len(errs), "nominated", len(nominations),
		"solve", createStart.Sub(solveStart).String(), "create", created.Sub(createStart).String(), "total", p.clock.Since(began).String())
	limited := map[string]bool{}
	for _, u := range res.Unschedulable {
		p.recorder.Eventf(u.Pod, nil, corev1.EventTypeWarning, ReasonNodeClaimNotCreated, "Provision", "%s", u.Reason)
		for name, np := range pools {
			if !limited[name] && strings.Contains(u.Reason, "nodepool "+name+" limit reached") {
				limited[name] = true
				p.recorder.Eventf(np, nil, corev1.EventTypeWarning, ReasonLimitReached, "Provision", "limit reached: %s", u.Reason)
			}
		}
	}
	p.explainLeftOut(ctx, snap, res.Unschedulable)
	if len(res.Unschedulable) > 0 {
		logger.Info("pods fit nowhere", "count", len(res.Unschedulable), "first", res.Unschedulable[0].Reason)
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("creating nodeclaims: %s", strings.Join(errs, "; "))
	}
	return res, nil
}

// explainLeftOut tells each pod that no pool of the batch could take, but
// that a pool left out of it could (its taints, requirements and labels
// allow the pod), which pool that is and why it cannot launch: the solver's
// reasons only cover the pools it was given, and otherwise the pod would
// wait with no word of the node class that holds it up.
func (p *Provisioner) explainLeftOut(ctx context.Context, snap *Snapshot, unschedulable []*scheduling.Unschedulable) {
	if len(snap.LeftOut) == 0 {
		return
	}
	// Each left-out pool's scheduling view, built once, not once per pod.
	pools := make([]*scheduling.NodePool, len(snap.LeftOut))
	for i, lo := range snap.LeftOut {
		pools[i] = scheduling.NodePoolFor(lo.NodePool, nil)
	}
	told := 0
	for _, u := range unschedulable {
		for i, lo := range snap.LeftOut {
			ok, _, err := scheduling.Compatible(u.Pod, pools[i])
			if err != nil {
				log.FromContext(ctx).V(1).Info("checking pod against left-out nodepool", "pod", client.ObjectKeyFromObject(u.Pod),
					"nodepool", lo.NodePool.Name, "error", err.Error())
				continue
			}
			if !ok {
				continue
			}
			told++
			p.recorder.Eventf(u.Pod, nil, corev1.EventTypeWarning, ReasonNodePoolUnavailable, "Provision",
				"Nodepool %s could run this pod but cannot launch nodes: %s: %s", lo.NodePool.Name, lo.Reason, lo.Message)
		}
	}
	if told > 0 {
		log.FromContext(ctx).Info("pods wait for nodepools that cannot launch nodes", "pods", told, "leftOut", len(snap.LeftOut))
	}
}

func (p *Provisioner) input(snap *Snapshot, pending []*corev1.Pod) scheduling.Input {
	in := scheduling.Input{Pods: pending, Nodes: snap.Nodes, DaemonSets: snap.DaemonSets, PodsElsewhere: snap.PodsElsewhere,
		VolumeRequirements: snap.VolumeRequirements, VolumeDrivers: snap.VolumeDrivers, Waiting: snap.Waiting, NamespaceLabels: snap.NamespaceLabels}
	for _, np := range snap.NodePools {
		sp := nodepool.ForScheduling(np, snap.InstanceTypes[np.Name])
		sp.NodeCost.Volumes = snap.NodeVolumes[np.Name]
		// The snapshot's usage is fresher than status (the counter may lag a
		// launch) and includes claims not launched yet.
		if u, ok := snap.Usage[np.Name]; ok {
			sp.InUse = u.DeepCopy()
		} else {
			sp.InUse = corev1.ResourceList{}
		}
		in.NodePools = append(in.NodePools, sp)
	}
	return in
}

// createPlans builds each plan's NodeClaim from its pool (then annotate,
// when set) and creates them writeWorkers at a time, remembering those
// created for the next batch (listClaims): one after another, 37 claims
// took 12 s on a busy apiserver. ncs[i] and errs[i] are plan i's.
func (p *Provisioner) createPlans(ctx context.Context, pools map[string]*v1.NodePool, plans []*scheduling.NodeClaimPlan,
	annotate func(*v1.NodeClaim, *scheduling.NodeClaimPlan)) (ncs []*v1.NodeClaim, errs []error) {
	ncs = make([]*v1.NodeClaim, len(plans))
	for i, plan := range plans {
		ncs[i] = nodeclaim.FromPlan(pools[plan.NodePool], plan)
		if annotate != nil {
			annotate(ncs[i], plan)
		}
	}
	errs = make([]error, len(ncs))
	var g errgroup.Group
	g.SetLimit(writeWorkers)
	for i, nc := range ncs {
		g.Go(func() error {
			if errs[i] = p.kube.Create(ctx, nc); errs[i] == nil {
				p.remember(nc)
			}
			return nil
		})
	}
	_ = g.Wait()
	return ncs, errs
}

// nomination is a pending pod and the in-flight claim it waits for.
type nomination struct {
	pod   *corev1.Pod
	claim string
}

// writeWorkers bounds a batch's writes in flight at once (claims created,
// pods annotated); the client's own rate limit (KUBE_CLIENT_QPS) still
// paces them.
const writeWorkers = 16

// nominateAll records each nomination at once, for the next batch to see,
// and annotates the pods in the background: on a busy apiserver a batch of
// 700 pods spent 13 s on its patches, and the pods that became pending
// meanwhile waited for them.
func (p *Provisioner) nominateAll(ctx context.Context, ns []nomination) {
	for _, n := range ns {
		p.nominations.Store(n.pod.UID, n.claim)
	}
	p.nominating.Add(1)
	go func() {
		defer p.nominating.Done()
		var g errgroup.Group
		g.SetLimit(writeWorkers)
		for _, n := range ns {
			g.Go(func() error {
				p.nominate(ctx, n)
				return nil
			})
		}
		_ = g.Wait()
	}()
}

// WaitNominations returns once every batch's pod annotations are written.
func (p *Provisioner) WaitNominations() { p.nominating.Wait() }

// nominate says in an event that a pod waits for a NodeClaim, and
// annotates the pod so that a restarted controller knows it too. A failed
// patch only costs a possibly redundant NodeClaim after a restart. The pod
// is not changed in place: the batch's result still holds it.
func (p *Provisioner) nominate(ctx context.Context, n nomination) {
	p.recorder.Eventf(n.pod, nil, corev1.EventTypeNormal, ReasonNominated, "Nominate", "Nominated for nodeclaim %s", n.claim)
	if n.pod.Annotations[NominatedAnnotationKey] == n.claim {
		return
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{NominatedAnnotationKey: n.claim}}})
	if err != nil {
		return
	}
	target := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: n.pod.Name, Namespace: n.pod.Namespace}}
	if err := p.kube.Patch(ctx, target, client.RawPatch(types.MergePatchType, patch)); client.IgnoreNotFound(err) != nil {
		log.FromContext(ctx).Error(err, "annotating nominated pod", "pod", client.ObjectKeyFromObject(n.pod), "nodeclaim", n.claim)
	}
}
