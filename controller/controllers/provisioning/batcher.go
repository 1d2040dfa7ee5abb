package provisioning

import (
	"context"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Batcher gathers triggers into batches: a batch closes once nothing new
// has triggered it for Idle, or Max after its first trigger, whichever comes
// first. Pods of one rollout arrive over a few hundred milliseconds; solving
// them together packs them onto fewer, larger nodes.
//
// A trigger names what it is for (a pod, a claim), and the same name again
// within a window does not extend it, as in Karpenter's batcher: at 2 000
// pods kube-scheduler rewrites the status of pods it cannot place yet every
// few seconds, and with each rewrite counted as news no batch ever went
// idle, so every one waited the full Max.
type Batcher struct {
	clock   clock.Clock
	idle    time.Duration
	max     time.Duration
	trigger chan struct{}
	// mu guards seen: what triggered the current window.
	mu   sync.Mutex
	seen map[string]bool
}

// NewBatcher returns a Batcher with the given windows.
func NewBatcher(clk clock.Clock, idle, max time.Duration) *Batcher {
	return &Batcher{clock: clk, idle: idle, max: max, trigger: make(chan struct{}, 1), seen: map[string]bool{}}
}

// Trigger asks for a batch on behalf of what (a pod's UID, say); it never
// blocks.
func (b *Batcher) Trigger(what string) {
	b.mu.Lock()
	seen := b.seen[what]
	b.seen[what] = true
	b.mu.Unlock()
	if seen {
		return
	}
	select {
	case b.trigger <- struct{}{}:
	default:
	}
}

// Wait blocks until a batch has closed (true) or ctx ends (false).
func (b *Batcher) Wait(ctx context.Context) bool {
	defer func() {
		b.mu.Lock()
		clear(b.seen)
		b.mu.Unlock()
	}()
	select {
	case <-ctx.Done():
		return false
	case <-b.trigger:
	}
	maxTimer := b.clock.NewTimer(b.max)
	defer maxTimer.Stop()
	idleTimer := b.clock.NewTimer(b.idle)
	// The timer in hand at the end, not the first one.
	defer func() { idleTimer.Stop() }()
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
