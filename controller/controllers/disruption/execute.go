package disruption

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
	"github.com/nodewright/nodewright/controller/utils/nodeclaim"
	"github.com/nodewright/nodewright/controller/utils/patch"
)

// ReplacesAnnotationKey on a replacement NodeClaim lists the NodeClaims it
// replaces. After a restart it is informational: a replacement whose
// candidates survived is just another node.
const ReplacesAnnotationKey = v1.Group + "/replaces"

// ReasonDisruptionFailed is the event reason of a rolled-back decision.
const ReasonDisruptionFailed = "DisruptionFailed"

// command is a validated decision being carried out. Until its
// replacements are Initialized it lives only here: the candidates are left
// untouched, and count as Deleting in this loop's snapshots.
type command struct {
	decision     *disruptionplan.Decision
	started      time.Time
	candidates   []string // NodeClaim names
	nodes        []string // their Node names
	objects      []client.Object
	pools        map[string]string // NodePool by candidate NodeClaim
	replacements []string
}

// execute launches the decision's replacements, or disrupts its candidates
// at once when it needs none.
func (c *Controller) execute(ctx context.Context, v *view, d *disruptionplan.Decision, r *Report) error {
	cmd := &command{decision: d, started: c.clock.Now(), pools: map[string]string{}}
	for _, n := range d.Candidates {
		name := claimName(n)
		cmd.candidates = append(cmd.candidates, name)
		cmd.nodes = append(cmd.nodes, n.Name)
		cmd.pools[name] = n.NodePool
		if nc := v.claims[name]; nc != nil {
			cmd.objects = append(cmd.objects, nc)
		}
		if node := v.nodes[n.Name]; node != nil {
			cmd.objects = append(cmd.objects, node)
		}
	}
	var types []string
	for _, plan := range d.Replacements {
		if len(plan.Options) > 0 {
			types = append(types, plan.Chosen().InstanceType.Name)
		}
	}
	log.FromContext(ctx).Info("disrupting nodes", "method", d.Method, "reason", d.Reason, "candidates", cmd.candidates,
		"replacements", types, "savings", d.Savings, "pods", d.PodsMoved, "message", d.Message)
	for _, o := range cmd.objects {
		c.recorder.Eventf(o, nil, corev1.EventTypeNormal, eventReason(d), "Disrupt", "%s", d.Message)
	}
	if len(d.Replacements) == 0 {
		return c.finish(ctx, cmd, r)
	}
	for _, plan := range d.Replacements {
		np := v.pools[plan.NodePool]
		if np == nil {
			c.fail(ctx, cmd, fmt.Sprintf("nodepool %s of a replacement is gone", plan.NodePool), r)
			return nil
		}
		nc := nodeclaim.FromPlan(np, plan)
		if nc.Annotations == nil {
			nc.Annotations = map[string]string{}
		}
		nc.Annotations[ReplacesAnnotationKey] = strings.Join(cmd.candidates, ",")
		if err := c.kube.Create(ctx, nc); err != nil {
			c.fail(ctx, cmd, fmt.Sprintf("creating a replacement nodeclaim for nodepool %s: %v", np.Name, err), r)
			return nil
		}
		cmd.replacements = append(cmd.replacements, nc.Name)
	}
	log.FromContext(ctx).Info("launched replacements", "method", d.Method, "candidates", cmd.candidates, "replacements", cmd.replacements)
	c.commands = append(c.commands, cmd)
	return nil
}

// progress ends each command whose replacements are all Initialized (the
// candidates go) or one of which failed (the replacements go).
func (c *Controller) progress(ctx context.Context, r *Report) error {
	var errs []error
	keep := c.commands[:0]
	for _, cmd := range c.commands {
		done, err := c.step(ctx, cmd, r)
		if err != nil {
			errs = append(errs, err)
		}
		if !done {
			keep = append(keep, cmd)
		}
	}
	clear(c.commands[len(keep):])
	c.commands = keep
	return errors.Join(errs...)
}

func (c *Controller) step(ctx context.Context, cmd *command, r *Report) (done bool, err error) {
	ready := true
	for _, name := range cmd.replacements {
		var nc v1.NodeClaim
		if err := c.opts.Reader.Get(ctx, client.ObjectKey{Name: name}, &nc); err != nil {
			if apierrors.IsNotFound(err) {
				// Lifecycle deletes a claim whose launch found no capacity.
				return true, c.fail(ctx, cmd, fmt.Sprintf("replacement nodeclaim %s is gone (its launch failed)", name), r)
			}
			return false, fmt.Errorf("getting replacement nodeclaim %s: %w", name, err)
		}
		if !nc.DeletionTimestamp.IsZero() {
			return true, c.fail(ctx, cmd, fmt.Sprintf("replacement nodeclaim %s is being deleted", name), r)
		}
		ready = ready && nc.IsTrue(v1.ConditionTypeInitialized)
	}
	if !ready {
		if c.clock.Since(cmd.started) >= c.opts.ReplacementTimeout {
			return true, c.fail(ctx, cmd, fmt.Sprintf("replacements %v not initialized within %s", cmd.replacements, c.opts.ReplacementTimeout), r)
		}
		return false, nil
	}
	if err := c.finish(ctx, cmd, r); err != nil {
		return false, err
	}
	return true, nil
}

// finish taints the candidates' Nodes and deletes their NodeClaims;
// termination drains and terminates them.
func (c *Controller) finish(ctx context.Context, cmd *command, r *Report) error {
	d := cmd.decision
	for i, name := range cmd.candidates {
		if err := c.taint(ctx, cmd.nodes[i]); err != nil {
			return err
		}
		nc := &v1.NodeClaim{}
		nc.Name = name
		if err := c.kube.Delete(ctx, nc); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting nodeclaim %s: %w", name, err)
		}
		nodesDisruptedTotal.WithLabelValues(string(d.Method), cmd.pools[name]).Inc()
	}
	decisionsTotal.WithLabelValues(string(d.Method), string(d.Reason), OutcomeCompleted).Inc()
	estimatedSavings.WithLabelValues(string(d.Method)).Set(d.Savings)
	log.FromContext(ctx).Info("disrupted nodes", "method", d.Method, "reason", d.Reason, "candidates", cmd.candidates,
		"replacements", cmd.replacements, "savings", d.Savings)
	r.Completed++
	return nil
}

// fail deletes the replacements and leaves the candidates as they were:
// nothing was tainted or drained yet.
func (c *Controller) fail(ctx context.Context, cmd *command, why string, r *Report) error {
	d := cmd.decision
	var errs []error
	for _, name := range cmd.replacements {
		nc := &v1.NodeClaim{}
		nc.Name = name
		if err := c.kube.Delete(ctx, nc); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("deleting replacement nodeclaim %s: %w", name, err))
		}
	}
	for _, o := range cmd.objects {
		c.recorder.Eventf(o, nil, corev1.EventTypeWarning, ReasonDisruptionFailed, "Disrupt", "%s: %s; nothing was drained", eventReason(d), why)
	}
	decisionsTotal.WithLabelValues(string(d.Method), string(d.Reason), OutcomeFailed).Inc()
	log.FromContext(ctx).Info("disruption failed, nothing was drained", "why", why, "method", d.Method, "reason", d.Reason,
		"candidates", cmd.candidates, "replacements", cmd.replacements)
	r.Failed++
	return errors.Join(errs...)
}

// eventReason is the budget reason, else the method.
func eventReason(d *disruptionplan.Decision) string {
	switch {
	case d.Reason != "":
		return string(d.Reason)
	default:
		return string(d.Method)
	}
}

func (c *Controller) taint(ctx context.Context, name string) error {
	node := &corev1.Node{}
	if err := c.kube.Get(ctx, client.ObjectKey{Name: name}, node); err != nil {
		return client.IgnoreNotFound(err)
	}
	return client.IgnoreNotFound(patch.Locked(ctx, c.kube, node, func(node *corev1.Node) {
		if !hasTaint(node, v1.DisruptedNoScheduleTaint) {
			node.Spec.Taints = append(node.Spec.Taints, v1.DisruptedNoScheduleTaint)
		}
	}))
}

// untaint removes the disrupted taint; like taint, it reads the Node again
// and retries when the kubelet or another controller wrote it meanwhile.
func (c *Controller) untaint(ctx context.Context, node *corev1.Node) error {
	err := patch.Locked(ctx, c.kube, node, func(node *corev1.Node) {
		var kept []corev1.Taint
		for _, t := range node.Spec.Taints {
			if t.Key != v1.DisruptedTaintKey {
				kept = append(kept, t)
			}
		}
		node.Spec.Taints = kept
	})
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("removing the disrupted taint from node %s: %w", node.Name, err)
	}
	return nil
}

func hasTaint(node *corev1.Node, t corev1.Taint) bool {
	for _, have := range node.Spec.Taints {
		if have.Key == t.Key && have.Effect == t.Effect {
			return true
		}
	}
	return false
}
