package disruption

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/volumetopology"
	"github.com/nodewright/nodewright/controller/utils/namespaces"
	"github.com/nodewright/nodewright/controller/utils/volumes"
)

// ReasonBudgetsInvalid is the event reason on a NodePool that disruption
// leaves alone because its budgets cannot be evaluated.
const ReasonBudgetsInvalid = "DisruptionBudgetsInvalid"

// ReasonOverLimit is the event reason on a NodePool whose limits leave no
// room for a disruption's replacements.
const ReasonOverLimit = "DisruptionBlockedByLimits"

// view is one snapshot with the objects it was built from, so a decision
// can be carried out on (and reported against) the real objects.
type view struct {
	snap   *disruptionplan.Snapshot
	pools  map[string]*v1.NodePool
	claims map[string]*v1.NodeClaim
	nodes  map[string]*corev1.Node
}

// evaluate lists the cluster, builds the snapshot and runs the engine.
// Candidates of in-flight commands count as Deleting (their Nodes carry the
// disrupted taint, which the snapshot reads the same way, so their pods are
// placed once, on the replacements, and not also counted where they are);
// the replacements are not candidates until the command is over.
func (c *Controller) evaluate(ctx context.Context) (*view, *disruptionplan.Result, error) {
	v, err := c.snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	busy, launching := map[string]bool{}, map[string]bool{}
	for _, cmd := range c.commands {
		for _, name := range cmd.candidates {
			busy[name] = true
		}
		for _, name := range cmd.replacements {
			launching[name] = true
		}
	}
	for _, n := range v.snap.Nodes {
		if busy[n.NodeClaim] {
			n.Deleting = true
		}
		if launching[n.NodeClaim] {
			n.DoNotDisrupt = true
		}
	}
	began := c.clock.Now()
	res, err := c.opts.Evaluator(v.snap)
	evaluationDuration.Observe(c.clock.Since(began).Seconds())
	if err != nil {
		return nil, nil, fmt.Errorf("evaluating disruption: %w", err)
	}
	for _, sk := range res.Skipped {
		// Every pass repeats it; the event and the pool's
		// DisruptionBudgetsValid condition are what users see.
		log.FromContext(ctx).V(1).Info("leaving nodepool out of disruption", "nodepool", sk.NodePool, "reason", sk.Reason)
		if np := v.pools[sk.NodePool]; np != nil {
			c.recorder.Eventf(np, nil, corev1.EventTypeWarning, ReasonBudgetsInvalid, "Disrupt", "Not disrupting this pool's nodes: %s", sk.Reason)
		}
	}
	for _, ol := range res.OverLimit {
		// Like a skipped pool, repeated every pass until the limits or the
		// cluster change.
		log.FromContext(ctx).V(1).Info("not disrupting: replacements over nodepool limits", "nodepool", ol.NodePool,
			"method", ol.Decision.Method, "candidates", candidateNames(ol.Decision), "reason", ol.Reason)
		if np := v.pools[ol.NodePool]; np != nil {
			c.recorder.Eventf(np, nil, corev1.EventTypeWarning, ReasonOverLimit, "Disrupt", "Not %s: %s", ol.Decision.Message, ol.Reason)
		}
	}
	return v, res, nil
}

func (c *Controller) snapshot(ctx context.Context) (*view, error) {
	o := disruptionplan.Objects{Now: c.clock.Now(), InstanceTypes: map[string][]*scheduling.InstanceType{}, NodeVolumes: map[string]float64{}}
	v := &view{pools: map[string]*v1.NodePool{}, claims: map[string]*v1.NodeClaim{}, nodes: map[string]*corev1.Node{}}
	var pools v1.NodePoolList
	if err := c.kube.List(ctx, &pools); err != nil {
		return nil, fmt.Errorf("listing nodepools: %w", err)
	}
	for i := range pools.Items {
		np := &pools.Items[i]
		o.NodePools = append(o.NodePools, np)
		v.pools[np.Name] = np
		types, err := c.cloud.InstanceTypes(ctx, np)
		if err != nil {
			// One pool's failure must not stop the pass: the pool stays in
			// the snapshot with no instance types, so nothing is launched
			// into it and its nodes are priced at zero. They are still
			// candidates: empty ones go, and consolidation may fold them
			// into others, as a pass that cannot price them can still see.
			log.FromContext(ctx).V(1).Info("no instance types for nodepool", "nodepool", np.Name, "error", err.Error())
			continue
		}
		o.InstanceTypes[np.Name] = types
		// A partly priced volume cost is still the best figure there is.
		vol, err := c.cloud.NodeVolumeCost(ctx, np)
		if err != nil {
			log.FromContext(ctx).V(1).Info("node volume cost is partial", "nodepool", np.Name, "usdPerHour", vol, "error", err.Error())
		}
		o.NodeVolumes[np.Name] = vol
	}
	var claims v1.NodeClaimList
	if err := c.kube.List(ctx, &claims); err != nil {
		return nil, fmt.Errorf("listing nodeclaims: %w", err)
	}
	for i := range claims.Items {
		o.NodeClaims = append(o.NodeClaims, &claims.Items[i])
		v.claims[claims.Items[i].Name] = &claims.Items[i]
	}
	var nodes corev1.NodeList
	if err := c.kube.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	if err := volumes.AttachLimits(ctx, c.kube, nodes.Items); err != nil {
		return nil, err
	}
	for i := range nodes.Items {
		o.Nodes = append(o.Nodes, &nodes.Items[i])
		v.nodes[nodes.Items[i].Name] = &nodes.Items[i]
	}
	// The cache's own pods, not copies (a pass would otherwise copy every
	// pod in the cluster); the engines only read them.
	var pods corev1.PodList
	if err := c.kube.List(ctx, &pods, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	var err error
	if o.NamespaceLabels, err = namespaces.Labels(ctx, c.kube); err != nil {
		return nil, err
	}
	for i := range pods.Items {
		o.Pods = append(o.Pods, &pods.Items[i])
	}
	// Every pod counts as placed: a what-if moves it only where its volumes
	// can follow, and none is held back here.
	_, volumeClaims, _, _ := volumetopology.Split(volumes.NewLookup(ctx, c.kube), nil, o.Pods)
	o.VolumeRequirements, o.VolumeDrivers = volumeClaims.Requirements, volumeClaims.Drivers
	var daemonsets appsv1.DaemonSetList
	if err := c.kube.List(ctx, &daemonsets); err != nil {
		return nil, fmt.Errorf("listing daemonsets: %w", err)
	}
	for i := range daemonsets.Items {
		o.DaemonSets = append(o.DaemonSets, &daemonsets.Items[i])
	}
	var pdbs policyv1.PodDisruptionBudgetList
	if err := c.kube.List(ctx, &pdbs); err != nil {
		return nil, fmt.Errorf("listing poddisruptionbudgets: %w", err)
	}
	for i := range pdbs.Items {
		o.PDBs = append(o.PDBs, &pdbs.Items[i])
	}
	snap, err := c.newSnapshot(o)
	if err != nil {
		return nil, fmt.Errorf("building the disruption snapshot: %w", err)
	}
	v.snap = snap
	return v, nil
}
