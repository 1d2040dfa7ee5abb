package awscloud

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// iceCache remembers pools (type, zone, capacity type) that reported
// InsufficientInstanceCapacity, so that offerings show them unavailable and
// launches skip them until the TTL passes.
type iceCache struct {
	mu    sync.Mutex
	clock clock.Clock
	ttl   time.Duration
	until map[poolKey]time.Time
}

type poolKey struct{ typ, zone, capacityType string }

func newICECache(c clock.Clock, ttl time.Duration) *iceCache {
	return &iceCache{clock: c, ttl: ttl, until: map[poolKey]time.Time{}}
}

func (c *iceCache) mark(typ, zone, capacityType string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.until[poolKey{typ, zone, capacityType}] = c.clock.Now().Add(c.ttl)
}

// markFor marks a pool for ttl, keeping a later expiry already recorded.
func (c *iceCache) markFor(typ, zone, capacityType string, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := poolKey{typ, zone, capacityType}
	if until := c.clock.Now().Add(ttl); until.After(c.until[k]) {
		c.until[k] = until
	}
}

func (c *iceCache) unavailable(typ, zone, capacityType string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := poolKey{typ, zone, capacityType}
	t, ok := c.until[k]
	if !ok {
		return false
	}
	if !c.clock.Now().Before(t) {
		delete(c.until, k)
		return false
	}
	return true
}

// cached holds one value fetched from AWS and when it expires. Concurrent
// callers of get share one fetch.
type cached[T any] struct {
	mu      sync.Mutex
	value   T
	fetched time.Time
	expires time.Time
	ok      bool
}

// fetchedAt is when the value held was fetched; zero before the first fetch.
func (c *cached[T]) fetchedAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetched
}

func (c *cached[T]) get(now time.Time, ttl time.Duration, fetch func() (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok && now.Before(c.expires) {
		return c.value, nil
	}
	v, err := fetch()
	if err != nil {
		if c.ok {
			// A stale catalog beats none: AWS throttling must not stop scheduling.
			return c.value, nil
		}
		var zero T
		return zero, err
	}
	c.value, c.fetched, c.expires, c.ok = v, now, now.Add(ttl), true
	return v, nil
}
