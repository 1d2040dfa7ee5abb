package cache

import (
	"errors"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestICECacheExpires(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	c := NewUnavailableOfferings(clk, 3*time.Minute)
	c.Mark("m5.large", "us-east-1a", "spot")
	if !c.Unavailable("m5.large", "us-east-1a", "spot") || c.Unavailable("m5.large", "us-east-1a", "on-demand") {
		t.Fatal("ICE not recorded per pool")
	}
	clk.Step(3 * time.Minute)
	if c.Unavailable("m5.large", "us-east-1a", "spot") {
		t.Error("ICE outlived its TTL")
	}
}

func TestICECacheMarkFor(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC))
	c := NewUnavailableOfferings(clk, 5*time.Minute)
	c.MarkFor("m5.large", "us-east-1a", "spot", 3*time.Minute)
	if !c.Unavailable("m5.large", "us-east-1a", "spot") || c.Unavailable("m5.large", "us-east-1a", "on-demand") {
		t.Fatal("only the marked pool is unavailable")
	}
	// A shorter mark never shortens a longer one.
	c.MarkFor("m5.large", "us-east-1a", "spot", time.Minute)
	clk.Step(2 * time.Minute)
	if !c.Unavailable("m5.large", "us-east-1a", "spot") {
		t.Error("pool available after 2m of a 3m mark")
	}
	clk.Step(time.Minute)
	if c.Unavailable("m5.large", "us-east-1a", "spot") {
		t.Error("pool still unavailable after 3m")
	}
}

// TestCachedFetchedAt: the time of a cached value is that of its fetch,
// kept while the value is reused, and kept when a refetch fails and the
// stale value is served.
func TestCachedFetchedAt(t *testing.T) {
	var c Value[int]
	t0 := time.Date(2026, 11, 23, 5, 59, 0, 0, time.UTC)
	if !c.FetchedAt().IsZero() {
		t.Fatal("fetched before any fetch")
	}
	n := 0
	ok := func() (int, error) { n++; return n, nil }
	for _, step := range []struct {
		after       time.Duration
		fetch       func() (int, error)
		want        int
		wantFetched time.Duration
	}{
		{0, ok, 1, 0},
		{time.Minute, ok, 1, 0},
		{6 * time.Minute, ok, 2, 6 * time.Minute},
		{12 * time.Minute, func() (int, error) { return 0, errors.New("throttled") }, 2, 6 * time.Minute},
	} {
		v, err := c.Get(t0.Add(step.after), 5*time.Minute, step.fetch)
		if err != nil || v != step.want || !c.FetchedAt().Equal(t0.Add(step.wantFetched)) {
			t.Errorf("at +%s: got %d, %v, fetched %s; want %d fetched at +%s", step.after, v, err, c.FetchedAt(), step.want, step.wantFetched)
		}
	}
}
