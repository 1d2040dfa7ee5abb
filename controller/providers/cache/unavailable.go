// Package cache holds the state the AWS providers keep between calls: the
// pools that ran out of capacity, and values fetched from AWS that are
// reused until they expire. It does no I/O; callers pass the fetch.
package cache

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// UnavailableOfferings remembers pools (type, zone, capacity type) that
// reported InsufficientInstanceCapacity, so that offerings show them
// unavailable and launches skip them until the TTL passes.
type UnavailableOfferings struct {
	// mu guards until.
	mu    sync.Mutex
	clock clock.Clock
	ttl   time.Duration
	until map[poolKey]time.Time
	// seq changes with the set of marked pools (Seq).
	seq uint64
}

type poolKey struct{ typ, zone, capacityType string }

// NewUnavailableOfferings marks pools for ttl unless told otherwise.
func NewUnavailableOfferings(c clock.Clock, ttl time.Duration) *UnavailableOfferings {
	return &UnavailableOfferings{clock: c, ttl: ttl, until: map[poolKey]time.Time{}}
}

// Mark makes the pool unavailable for the cache's TTL.
func (c *UnavailableOfferings) Mark(typ, zone, capacityType string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.until[poolKey{typ, zone, capacityType}] = c.clock.Now().Add(c.ttl)
	c.seq++
}

// MarkFor marks a pool for ttl, keeping a later expiry already recorded.
func (c *UnavailableOfferings) MarkFor(typ, zone, capacityType string, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := poolKey{typ, zone, capacityType}
	if until := c.clock.Now().Add(ttl); until.After(c.until[k]) {
		c.until[k] = until
		c.seq++
	}
}

// Unavailable reports whether the pool is marked and its mark has not
// expired.
func (c *UnavailableOfferings) Unavailable(typ, zone, capacityType string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := poolKey{typ, zone, capacityType}
	t, ok := c.until[k]
	if !ok {
		return false
	}
	if !c.clock.Now().Before(t) {
		delete(c.until, k)
		c.seq++
		return false
	}
	return true
}

// Seq changes whenever the set of unavailable pools does: a pool marked, or
// a mark expired. What was built from Unavailable holds while it is the
// same.
func (c *UnavailableOfferings) Seq() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	for k, t := range c.until {
		if !now.Before(t) {
			delete(c.until, k)
			c.seq++
		}
	}
	return c.seq
}
