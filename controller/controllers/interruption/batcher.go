package interruption

import (
	"context"
	"sync"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// batcher gathers nodes interrupted close together into one replacement:
// a burst of warnings becomes one solve and a few large NodeClaims rather
// than a launch per node.
type batcher struct {
	clock  clock.Clock
	window time.Duration
	// flush replaces nodes and returns, per node, the claims its pods go to.
	flush func(ctx context.Context, nodes []string) (map[string][]string, error)
	// base is the context batches run in: the consumer's, not the first
	// message's, whose log fields would mislabel the whole batch.
	base context.Context

	mu      sync.Mutex
	waiting map[string][]func(replacements []string, err error, duplicate bool)
	order   []string
}

func newBatcher(clk clock.Clock, window time.Duration, flush func(context.Context, []string) (map[string][]string, error)) *batcher {
	return &batcher{clock: clk, window: window, flush: flush}
}

// add queues node; done gets the node's own replacements (or the batch's
// error) once the window after the batch's first node closes. A node is
// not held by the claims of the batch's other nodes: one replacement that
// is slow to join (or never does) keeps only the nodes whose pods it
// takes. A node added twice to one batch (two copies of a warning in
// flight at once) is replaced once; the later callers are told they are
// duplicates.
func (b *batcher) add(ctx context.Context, node string, done func(replacements []string, err error, duplicate bool)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiting == nil {
		b.waiting = map[string][]func([]string, error, bool){}
		base := b.base
		if base == nil {
			base = ctx
		}
		go b.run(log.IntoContext(context.WithoutCancel(base), log.FromContext(base).WithName("batch")))
	}
	if _, ok := b.waiting[node]; !ok {
		b.order = append(b.order, node)
	}
	b.waiting[node] = append(b.waiting[node], done)
}

func (b *batcher) run(ctx context.Context) {
	<-b.clock.After(b.window)
	b.mu.Lock()
	waiting, nodes := b.waiting, b.order
	b.waiting, b.order = nil, nil
	b.mu.Unlock()
	log.FromContext(ctx).Info("replacing interrupted nodes", "nodes", len(nodes))
	byNode, err := b.flush(ctx, nodes)
	for _, n := range nodes {
		for i, done := range waiting[n] {
			done(byNode[n], err, i > 0)
		}
	}
}
