package aws

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestICECacheMarkFor(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC))
	c := newICECache(clk, 5*time.Minute)
	c.markFor("m5.large", "us-east-1a", "spot", 3*time.Minute)
	if !c.unavailable("m5.large", "us-east-1a", "spot") || c.unavailable("m5.large", "us-east-1a", "on-demand") {
		t.Fatal("only the marked pool is unavailable")
	}
	// A shorter mark never shortens a longer one.
	c.markFor("m5.large", "us-east-1a", "spot", time.Minute)
	clk.Step(2 * time.Minute)
	if !c.unavailable("m5.large", "us-east-1a", "spot") {
		t.Error("pool available after 2m of a 3m mark")
	}
	clk.Step(time.Minute)
	if c.unavailable("m5.large", "us-east-1a", "spot") {
		t.Error("pool still unavailable after 3m")
	}
}
