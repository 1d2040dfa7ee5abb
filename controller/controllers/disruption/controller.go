// Package disruption runs the disruption loop: one leader-elected pass at a
// time builds a snapshot of the cluster, asks the disruption engine for a
// decision, and checks after a delay that the decision still holds. Then
// it taints the candidates' Nodes, records the decision on the NodeClaims,
// launches the replacements, and only once they are Initialized hands the
// candidates to termination (which drains them). A replacement that fails
// rolls the decision back before anything was drained. The record lets a
// restarted controller finish or roll back what the previous run started
// (resume.go).
package disruption

import (
	"context"
	"sync"
	"time"

	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
)

// Evaluator is the disruption engine as the loop sees it; tests swap it.
type Evaluator func(*disruptionplan.Snapshot) (*disruptionplan.Result, error)

// Options tune the loop.
type Options struct {
	// ValidationDelay is how long a decision waits before it is checked
	// again and carried out. Default 15 s.
	ValidationDelay time.Duration
	// ReplacementTimeout bounds how long replacements may take to become
	// Initialized before the decision is rolled back. Default 10 min.
	ReplacementTimeout time.Duration
	// Interval is the longest time between passes. Default 10 s.
	Interval time.Duration
	// Evaluator defaults to disruptionplan.Evaluate with default options.
	Evaluator Evaluator
	// Reader, when set, reads replacement NodeClaims: a cache may not show
	// one that was just created, and that must not look like a failure.
	Reader client.Reader
}

func (o Options) withDefaults(kube client.Client) Options {
	if o.ValidationDelay < 0 {
		o.ValidationDelay = 0
	}
	if o.ReplacementTimeout <= 0 {
		o.ReplacementTimeout = 10 * time.Minute
	}
	if o.Interval <= 0 {
		o.Interval = 10 * time.Second
	}
	if o.Evaluator == nil {
		o.Evaluator = func(s *disruptionplan.Snapshot) (*disruptionplan.Result, error) {
			return disruptionplan.Evaluate(s, disruptionplan.Options{})
		}
	}
	if o.Reader == nil {
		o.Reader = kube
	}
	return o
}

// Controller is the disruption loop.
type Controller struct {
	kube     client.Client
	cloud    cloudprovider.CloudProvider
	clock    clock.Clock
	recorder events.EventRecorder
	opts     Options
	cache    cache.Cache
	trigger  chan struct{}
	// newSnapshot is disruptionplan.NewSnapshot; tests may swap it.
	newSnapshot func(disruptionplan.Objects) (*disruptionplan.Snapshot, error)

	mu sync.Mutex
	// pending decisions wait out the validation delay.
	pending *pending
	// commands are decisions whose replacements are launching.
	commands []*command
	// ended are the ids of commands this run finished or rolled back.
	ended map[string]bool
	// started: the first pass released orphaned taints.
	started bool
	// podEvents wait for the next pass to be recorded.
	podEvents podEvents
}

// NewController returns the loop; ValidationDelay 0 is taken as is.
func NewController(kube client.Client, cloud cloudprovider.CloudProvider, clk clock.Clock, recorder events.EventRecorder, opts Options) *Controller {
	return &Controller{kube: kube, cloud: cloud, clock: clk, recorder: recorder, opts: opts.withDefaults(kube),
		trigger: make(chan struct{}, 1), newSnapshot: disruptionplan.NewSnapshot}
}

// Name of the controller in logs.
func (c *Controller) Name() string { return "disruption" }

// Report is what one pass did, for the loop's timing and for tests.
type Report struct {
	// Proposed decisions now wait for validation.
	Proposed []*disruptionplan.Decision
	// Started decisions passed validation and are being carried out.
	Started []*disruptionplan.Decision
	// Dropped decisions no longer held after the delay.
	Dropped []*disruptionplan.Decision
	// Completed and Failed count decisions that ended this pass.
	Completed, Failed int
	// Resumed counts recorded commands (from a previous run) this pass
	// took up again to wait for their replacements.
	Resumed int
	// OverLimit are decisions not taken because their replacements would
	// take a NodePool past its limits.
	OverLimit []disruptionplan.OverLimit
	// Next is when the next pass is due.
	Next time.Duration
}

// Pass runs one round: carry in-flight commands forward; then validate the
// pending decision once its delay is over, or look for a new one.
func (c *Controller) Pass(ctx context.Context) (Report, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithName(c.Name()))
	r := Report{Next: c.opts.Interval}
	if err := c.flushPodEvents(ctx); err != nil {
		return r, err
	}
	// 1. Taints and commands a previous run left behind are picked up:
	// orphaned taints released once, recorded commands whenever one is
	// not in memory.
	if !c.started {
		if err := c.ReleaseOrphans(ctx); err != nil {
			return r, err
		}
		c.started = true
	}
	if err := c.resume(ctx, &r); err != nil {
		return r, err
	}
	// 2. Replacements that are ready or failed end their command.
	if err := c.progress(ctx, &r); err != nil {
		return r, err
	}
	if r.Completed+r.Failed > 0 {
		// The cluster just changed; decide on the next pass, not on
		// objects a cache may not have caught up with.
		r.Next = time.Second
		return r, nil
	}
	// 3. A pending decision is re-checked once the delay has passed.
	if c.pending != nil {
		if wait := c.pending.due.Sub(c.clock.Now()); wait > 0 {
			r.Next = min(r.Next, wait)
			return r, nil
		}
		return r, c.validate(ctx, &r)
	}
	// 4. Look for a new decision.
	v, res, err := c.evaluate(ctx)
	if err != nil {
		return r, err
	}
	r.OverLimit = res.OverLimit
	if len(res.Decisions) > 0 {
		c.propose(ctx, v, res.Decisions)
		r.Proposed = res.Decisions
		r.Next = c.opts.ValidationDelay
	} else if !res.NextCheck.IsZero() {
		r.Next = max(min(r.Next, res.NextCheck.Sub(c.clock.Now())), 0)
	}
	if len(c.commands) > 0 {
		r.Next = min(r.Next, time.Second)
	}
	return r, nil
}

// NeedLeaderElection: only the leader disrupts.
func (c *Controller) NeedLeaderElection() bool { return true }

// Register adds the loop to the manager.
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	c.cache = mgr.GetCache()
	return mgr.Add(c)
}
