package disruption

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/uuid"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
	"github.com/nodewright/nodewright/controller/utils/nodeclaim"
	"github.com/nodewright/nodewright/controller/utils/patch"
)

// ReplacesAnnotationKey on a replacement NodeClaim lists the NodeClaims it
// replaces.
const ReplacesAnnotationKey = v1.ReplacesAnnotationKey

// ReasonDisruptionFailed is the event reason of a rolled-back decision.
const ReasonDisruptionFailed = "DisruptionFailed"

// command is a validated decision being carried out. From the moment it is
// taken its candidates' Nodes carry the disrupted taint (so nothing new is
// scheduled onto them) and its NodeClaims carry its id (so a restarted
// controller finds it again, see resume.go); the candidates are deleted
// only once every replacement is Initialized.
type command struct {
	id           string
	decision     *disruptionplan.Decision
	started      time.Time
	candidates   []string // NodeClaim names
	nodes        []string // their Node names
	objects      []client.Object
	pools        map[string]string // NodePool by candidate NodeClaim
	replacements []string
	// resumed: rebuilt from its record after a restart, so the decision's
	// figures (savings, pods) are unknown.
	resumed bool
}

// execute marks the candidates and launches the decision's replacements,
// or disrupts the candidates at once when it needs none.
func (c *Controller) execute(ctx context.Context, v *view, d *disruptionplan.Decision, r *Report) error {
	cmd := &command{id: string(uuid.NewUUID()), decision: d, started: c.clock.Now(), pools: map[string]string{}}
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
	log.FromContext(ctx).Info("disrupting nodes", "command", cmd.id, "method", d.Method, "reason", d.Reason, "candidates", cmd.candidates,
		"replacements", types, "savings", d.Savings, "pods", d.PodsMoved, "message", d.Message)
	for _, o := range cmd.objects {
		c.recorder.Eventf(o, nil, corev1.EventTypeNormal, eventReason(d), "Disrupt", "%s", d.Message)
	}
	// Taint before launching, as Karpenter does: pods that arrive while the
	// replacements launch must not land on nodes about to go.
	if err := c.mark(ctx, cmd, len(d.Replacements)); err != nil {
		return c.fail(ctx, cmd, fmt.Sprintf("marking the candidates: %v", err), r)
	}
	if len(d.Replacements) == 0 {
		return c.finish(ctx, cmd, r)
	}
	for _, plan := range d.Replacements {
		np := v.pools[plan.NodePool]
		if np == nil {
			return c.fail(ctx, cmd, fmt.Sprintf("nodepool %s of a replacement is gone", plan.NodePool), r)
		}
		nc := nodeclaim.FromPlan(np, plan)
		if nc.Annotations == nil {
			nc.Annotations = map[string]string{}
		}
		nc.Annotations[ReplacesAnnotationKey] = strings.Join(cmd.candidates, ",")
		nc.Annotations[v1.DisruptionCommandAnnotationKey] = cmd.id
		if err := c.kube.Create(ctx, nc); err != nil {
			return c.fail(ctx, cmd, fmt.Sprintf("creating a replacement nodeclaim for nodepool %s: %v", np.Name, err), r)
		}
		cmd.replacements = append(cmd.replacements, nc.Name)
	}
	log.FromContext(ctx).Info("launched replacements", "command", cmd.id, "method", d.Method, "candidates", cmd.candidates, "replacements", cmd.replacements)
	c.commands = append(c.commands, cmd)
	return nil
}

// mark records the command on its candidate NodeClaims and taints their
// Nodes.
func (c *Controller) mark(ctx context.Context, cmd *command, replacements int) error {
	d := cmd.decision
	record := map[string]string{
		v1.DisruptionCommandAnnotationKey:      cmd.id,
		v1.DisruptionMethodAnnotationKey:       string(d.Method),
		v1.DisruptionStartedAnnotationKey:      cmd.started.UTC().Format(time.RFC3339),
		v1.DisruptionReplacementsAnnotationKey: strconv.Itoa(replacements),
	}
	if d.Reason != "" {
		record[v1.DisruptionReasonAnnotationKey] = string(d.Reason)
	}
	for i, name := range cmd.candidates {
		if err := c.annotateClaim(ctx, name, record); err != nil {
			return err
		}
		if err := c.taint(ctx, cmd.nodes[i]); err != nil {
			return fmt.Errorf("tainting node %s: %w", cmd.nodes[i], err)
		}
	}
	return nil
}

// annotateClaim sets (value "") or removes (value "-") annotations on a
// NodeClaim; a claim that is gone is left so.
func (c *Controller) annotateClaim(ctx context.Context, name string, set map[string]string) error {
	nc := &v1.NodeClaim{}
	if err := c.kube.Get(ctx, client.ObjectKey{Name: name}, nc); err != nil {
		return client.IgnoreNotFound(err)
	}
	err := patch.Locked(ctx, c.kube, nc, func(nc *v1.NodeClaim) {
		if nc.Annotations == nil {
			nc.Annotations = map[string]string{}
		}
		for k, v := range set {
			if v == clearAnnotation {
				delete(nc.Annotations, k)
			} else {
				nc.Annotations[k] = v
			}
		}
	})
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("annotating nodeclaim %s: %w", name, err)
	}
	return nil
}

// clearAnnotation as a value to annotateClaim removes the key.
const clearAnnotation = "-"

// candidateRecord are the annotations a command leaves on a candidate.
var candidateRecord = []string{v1.DisruptionCommandAnnotationKey, v1.DisruptionMethodAnnotationKey, v1.DisruptionReasonAnnotationKey,
	v1.DisruptionStartedAnnotationKey, v1.DisruptionReplacementsAnnotationKey}

func clearing(keys ...string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		out[k] = clearAnnotation
	}
	return out
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

// finish deletes the candidates' NodeClaims (termination drains and
// terminates them) and then drops the record from the replacements, which
// become ordinary nodes. It is idempotent: a candidate already being
// deleted, or gone, is neither deleted nor counted again, so a restart
// between the two steps carries nothing out twice.
func (c *Controller) finish(ctx context.Context, cmd *command, r *Report) error {
	d := cmd.decision
	disrupted := 0
	for i, name := range cmd.candidates {
		nc := &v1.NodeClaim{}
		if err := c.kube.Get(ctx, client.ObjectKey{Name: name}, nc); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return fmt.Errorf("getting candidate nodeclaim %s: %w", name, err)
		}
		if !nc.DeletionTimestamp.IsZero() {
			continue
		}
		if err := c.taint(ctx, cmd.nodes[i]); err != nil {
			return err
		}
		if err := c.kube.Delete(ctx, nc); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting nodeclaim %s: %w", name, err)
		}
		disrupted++
		nodesDisruptedTotal.WithLabelValues(string(d.Method), cmd.pools[name]).Inc()
	}
	for _, name := range cmd.replacements {
		if err := c.annotateClaim(ctx, name, clearing(v1.DisruptionCommandAnnotationKey)); err != nil {
			return err
		}
	}
	c.end(cmd)
	decisionsTotal.WithLabelValues(string(d.Method), string(d.Reason), OutcomeCompleted).Inc()
	if !cmd.resumed {
		estimatedSavings.WithLabelValues(string(d.Method)).Set(d.Savings)
	}
	log.FromContext(ctx).Info("disrupted nodes", "command", cmd.id, "method", d.Method, "reason", d.Reason, "candidates", cmd.candidates,
		"deleted", disrupted, "replacements", cmd.replacements, "savings", d.Savings)
	r.Completed++
	return nil
}

// fail rolls the decision back: the replacements are deleted, then the
// candidates untainted and their record dropped. Nothing was drained yet.
// Every step is idempotent, so a restart midway repeats it safely.
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
	if len(errs) == 0 {
		// Only once the replacements are going: a restart in between finds
		// the candidates' record and rolls back again.
		for i, name := range cmd.candidates {
			if err := c.release(ctx, cmd.nodes[i]); err != nil {
				errs = append(errs, err)
			}
			if err := c.annotateClaim(ctx, name, clearing(candidateRecord...)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.end(cmd)
	for _, o := range cmd.objects {
		c.recorder.Eventf(o, nil, corev1.EventTypeWarning, ReasonDisruptionFailed, "Disrupt", "%s: %s; nothing was drained", eventReason(d), why)
	}
	decisionsTotal.WithLabelValues(string(d.Method), string(d.Reason), OutcomeFailed).Inc()
	log.FromContext(ctx).Info("disruption failed, nothing was drained", "command", cmd.id, "why", why, "method", d.Method, "reason", d.Reason,
		"candidates", cmd.candidates, "replacements", cmd.replacements)
	r.Failed++
	return nil
}

// end forgets the command, and remembers that it ended so that a record a
// stale cache still shows is not resumed.
func (c *Controller) end(cmd *command) {
	if c.ended == nil {
		c.ended = map[string]bool{}
	}
	c.ended[cmd.id] = true
}

// release untaints the named Node, if it exists.
func (c *Controller) release(ctx context.Context, name string) error {
	node := &corev1.Node{}
	if err := c.kube.Get(ctx, client.ObjectKey{Name: name}, node); err != nil {
		return client.IgnoreNotFound(err)
	}
	return c.untaint(ctx, node)
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
