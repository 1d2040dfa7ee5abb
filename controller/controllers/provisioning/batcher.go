package provisioning

import (
	"context"
	"time"

	"k8s.io/utils/clock"
)

// Batcher gathers triggers into batches: a batch closes once no trigger has
// arrived for Idle, or Max after its first trigger, whichever comes first.
// Pods of one rollout arrive over a few hundred milliseconds; solving them
// together packs them onto fewer, larger nodes.
type Batcher struct {
	clock   clock.Clock
	idle    time.Duration
	max     time.Duration
	trigger chan struct{}
}

// NewBatcher returns a Batcher with the given windows.
func NewBatcher(clk clock.Clock, idle, max time.Duration) *Batcher {
	return &Batcher{clock: clk, idle: idle, max: max, trigger: make(chan struct{}, 1)}
}

// Trigger asks for a batch; it never blocks.
func (b *Batcher) Trigger() {
	select {
	case b.trigger <- struct{}{}:
	default:
	}
}

// Wait blocks until a batch has closed (true) or ctx ends (false).
func (b *Batcher) Wait(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-b.trigger:
	}
	maxTimer := b.clock.NewTimer(b.max)
	defer maxTimer.Stop()
	idleTimer := b.clock.NewTimer(b.idle)
	defer idleTimer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-maxTimer.C():
			return true
		case <-idleTimer.C():
			return true
		case <-b.trigger:
			idleTimer.Stop()
			idleTimer = b.clock.NewTimer(b.idle)
		}
	}
}
