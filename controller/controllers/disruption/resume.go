package disruption

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
)

// resume picks up the commands recorded on NodeClaims that this run does
// not hold in memory: a previous run (or this one, before an error) took
// them and stopped. Each is finished, rolled back or waited for, as its
// objects say:
//   - a replacement is being deleted, or fewer exist than were launched:
//     roll back (its launch failed, or the run stopped before launching it);
//   - no candidate is left that is not being deleted: the command was
//     finished (or its candidates went some other way); the replacements
//     stay as ordinary nodes;
//   - every replacement is Initialized: finish;
//   - otherwise wait on, the timeout counting from the recorded start.
func (c *Controller) resume(ctx context.Context, r *Report) error {
	var claims v1.NodeClaimList
	if err := c.kube.List(ctx, &claims); err != nil {
		return fmt.Errorf("listing nodeclaims: %w", err)
	}
	known := map[string]bool{}
	for _, cmd := range c.commands {
		known[cmd.id] = true
	}
	groups := map[string][]*v1.NodeClaim{}
	var ids []string
	for i := range claims.Items {
		nc := &claims.Items[i]
		id := nc.Annotations[v1.DisruptionCommandAnnotationKey]
		if id == "" || known[id] || c.ended[id] {
			continue
		}
		if groups[id] == nil {
			ids = append(ids, id)
		}
		groups[id] = append(groups[id], nc)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := c.resumeOne(ctx, id, groups[id], r); err != nil {
			return fmt.Errorf("resuming disruption command %s: %w", id, err)
		}
	}
	return nil
}

func (c *Controller) resumeOne(ctx context.Context, id string, claims []*v1.NodeClaim, r *Report) error {
	cmd := &command{id: id, decision: &disruptionplan.Decision{}, pools: map[string]string{}, resumed: true}
	wanted, live := -1, 0
	var reps []*v1.NodeClaim
	for _, nc := range claims {
		if _, ok := nc.Annotations[ReplacesAnnotationKey]; ok {
			reps = append(reps, nc)
			cmd.replacements = append(cmd.replacements, nc.Name)
			continue
		}
		a := nc.Annotations
		cmd.decision.Method = disruptionplan.Method(a[v1.DisruptionMethodAnnotationKey])
		cmd.decision.Reason = v1.DisruptionReason(a[v1.DisruptionReasonAnnotationKey])
		if t, err := time.Parse(time.RFC3339, a[v1.DisruptionStartedAnnotationKey]); err == nil && (cmd.started.IsZero() || t.Before(cmd.started)) {
			cmd.started = t
		}
		if n, err := strconv.Atoi(a[v1.DisruptionReplacementsAnnotationKey]); err == nil && n > wanted {
			wanted = n
		}
		node := nc.Status.NodeName
		if node == "" {
			node = nc.Name
		}
		cmd.candidates = append(cmd.candidates, nc.Name)
		cmd.nodes = append(cmd.nodes, node)
		cmd.pools[nc.Name] = nc.Labels[v1.NodePoolLabelKey]
		cmd.objects = append(cmd.objects, nc)
		if nc.DeletionTimestamp.IsZero() {
			live++
		}
	}
	if cmd.started.IsZero() {
		// A record without a start (written by hand, say) times out a full
		// ReplacementTimeout from now.
		cmd.started = c.clock.Now()
	}
	cmd.decision.Message = "resumed after a restart"
	logger := log.FromContext(ctx).WithValues("command", id, "method", cmd.decision.Method, "candidates", cmd.candidates, "replacements", cmd.replacements)
	ready := true
	for _, nc := range reps {
		if !nc.DeletionTimestamp.IsZero() {
			logger.Info("resuming disruption: rolling back, a replacement is being deleted", "replacement", nc.Name)
			return c.fail(ctx, cmd, fmt.Sprintf("replacement nodeclaim %s is being deleted", nc.Name), r)
		}
		ready = ready && nc.IsTrue(v1.ConditionTypeInitialized)
	}
	switch {
	case live > 0 && wanted >= 0 && len(reps) < wanted:
		logger.Info("resuming disruption: rolling back, replacements are missing", "want", wanted, "have", len(reps))
		return c.fail(ctx, cmd, fmt.Sprintf("%d of %d replacements are gone", wanted-len(reps), wanted), r)
	case live == 0:
		logger.Info("resuming disruption: no candidate left to disrupt, keeping the replacements as ordinary nodes")
		for _, name := range cmd.replacements {
			if err := c.annotateClaim(ctx, name, clearing(v1.DisruptionCommandAnnotationKey)); err != nil {
				return err
			}
		}
		c.end(cmd)
		return nil
	case ready:
		logger.Info("resuming disruption: replacements are initialized, finishing")
		return c.finish(ctx, cmd, r)
	default:
		logger.Info("resuming disruption: waiting for the replacements", "started", cmd.started)
		r.Resumed++
		c.commands = append(c.commands, cmd)
		return nil
	}
}

// commandOf is the disruption command recorded on a NodeClaim, or "".
func commandOf(nc client.Object) string {
	return nc.GetAnnotations()[v1.DisruptionCommandAnnotationKey]
}
