package disruption

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

const (
	// debounce is how long a change waits for more changes before a pass.
	debounce = time.Second
	// minGap keeps a busy cluster's churn from running passes back to back.
	minGap = 2 * time.Second
)

// Start runs passes until ctx ends: every Interval, soon after nodes,
// claims or pods change, and when a pass asks for an earlier one.
func (c *Controller) Start(ctx context.Context) error {
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithName(c.Name()))
	if err := c.watch(ctx); err != nil {
		return err
	}
	timer := c.clock.NewTimer(c.opts.Interval)
	defer timer.Stop()
	due := c.clock.Now().Add(c.opts.Interval)
	last := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.trigger:
			at := c.clock.Now().Add(debounce)
			if gap := last.Add(minGap); at.Before(gap) {
				at = gap
			}
			if at.Before(due) {
				due = at
				timer.Reset(max(due.Sub(c.clock.Now()), 0))
			}
		case <-timer.C():
			last = c.clock.Now()
			r, err := c.Pass(ctx)
			passDuration.Observe(c.clock.Since(last).Seconds())
			if err != nil {
				log.FromContext(ctx).Error(err, "disruption pass failed")
			}
			next := max(r.Next, 100*time.Millisecond)
			due = c.clock.Now().Add(next)
			timer.Reset(next)
		}
	}
}

// Trigger asks for a pass soon.
func (c *Controller) Trigger() {
	select {
	case c.trigger <- struct{}{}:
	default:
	}
}

// watch triggers a pass when Nodes or NodeClaims change, or a pod is
// added, bound, finished or removed (other pod churn is ignored).
func (c *Controller) watch(ctx context.Context) error {
	if c.cache == nil {
		return nil
	}
	all := toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { c.Trigger() }, UpdateFunc: func(_, _ any) { c.Trigger() }, DeleteFunc: func(any) { c.Trigger() },
	}
	for obj, h := range map[client.Object]toolscache.ResourceEventHandler{&corev1.Node{}: all, &v1.NodeClaim{}: all, &corev1.Pod{}: c.podHandler()} {
		inf, err := c.cache.GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("watching %T: %w", obj, err)
		}
		if _, err := inf.AddEventHandler(h); err != nil {
			return fmt.Errorf("watching %T: %w", obj, err)
		}
	}
	return nil
}

// ReleaseOrphans removes the disrupted taint from Nodes whose NodeClaim is
// not being deleted and carries no disruption command: a previous run
// tainted them and stopped before it recorded or deleted the claim, and
// nothing else would ever untaint them. Karpenter's disruption controller
// does the same with nodes outside its queue. Candidates of a recorded
// command are left to resume, which finishes or rolls the command back.
func (c *Controller) ReleaseOrphans(ctx context.Context) error {
	var nodes corev1.NodeList
	if err := c.kube.List(ctx, &nodes); err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	var claims v1.NodeClaimList
	if err := c.kube.List(ctx, &claims); err != nil {
		return fmt.Errorf("listing nodeclaims: %w", err)
	}
	deleting := map[string]bool{}
	for i := range claims.Items {
		if nc := &claims.Items[i]; nc.Status.ProviderID != "" {
			deleting[nc.Status.ProviderID] = !nc.DeletionTimestamp.IsZero() || commandOf(nc) != ""
		}
	}
	for i := range nodes.Items {
		node := &nodes.Items[i]
		held, known := deleting[node.Spec.ProviderID]
		if !node.DeletionTimestamp.IsZero() || !known || held || !hasTaint(node, v1.DisruptedNoScheduleTaint) {
			continue
		}
		if err := c.untaint(ctx, node); err != nil {
			return err
		}
		log.FromContext(ctx).Info("released node tainted by an unfinished disruption", "node", node.Name)
	}
	return nil
}
