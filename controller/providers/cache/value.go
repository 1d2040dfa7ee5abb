package cache

import (
	"sync"
	"time"
)

// Value holds one value fetched from AWS and when it expires. Concurrent
// callers of Get share one fetch. The zero Value is empty and ready.
type Value[T any] struct {
	// mu guards every field, and is held across a fetch so that callers
	// waiting for it get its result rather than fetching again.
	mu      sync.Mutex
	value   T
	fetched time.Time
	expires time.Time
	ok      bool
}

// FetchedAt is when the value held was fetched; zero before the first fetch.
func (c *Value[T]) FetchedAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fetched
}

// Get returns the value held if it is younger than ttl at now, else what
// fetch returns. When fetch fails, a value held before is returned, stale.
func (c *Value[T]) Get(now time.Time, ttl time.Duration, fetch func() (T, error)) (T, error) {
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
