package pricing

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	dto "github.com/prometheus/client_model/go"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// A Price List that fails is said once, when the fallback to the embedded
// catalog starts, and once when it ends; the gauge is 1 in between.
func TestEmbeddedFallbackIsReportedOnce(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC))
	pl := &countingPricing{fail: true}
	p := NewDefaultProvider(Options{Region: "us-east-1", Clock: clk, TTL: time.Minute}, pl, &spotHistory{})
	var lines []string
	ctx := log.IntoContext(context.Background(), funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{}))
	refresh := func() {
		t.Helper()
		if _, err := p.Prices(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Step(2 * time.Minute)
	}
	for range 3 {
		refresh()
	}
	if len(lines) != 1 || gauge(t) != 1 {
		t.Fatalf("after three failing refreshes: %d log lines %q, gauge %v; want 1 line and 1", len(lines), lines, gauge(t))
	}
	if f := p.Fallback(); f.Episode != 1 || f.PriceRegion != "us-east-1" || f.Reason == "" {
		t.Fatalf("Fallback() = %+v during the first failing stretch", f)
	}
	pl.fail = false
	refresh()
	refresh()
	if len(lines) != 2 || gauge(t) != 0 {
		t.Fatalf("after the Price List answered again: %d log lines %q, gauge %v; want 2 lines and 0", len(lines), lines, gauge(t))
	}
	if f := p.Fallback(); f.Episode != 0 {
		t.Fatalf("Fallback() = %+v after the Price List answered", f)
	}
	pl.fail = true
	refresh()
	if f := p.Fallback(); f.Episode != 2 {
		t.Fatalf("Fallback() = %+v in the second failing stretch, want episode 2", f)
	}
}

func gauge(t *testing.T) float64 {
	t.Helper()
	var m dto.Metric
	if err := embeddedOnDemand.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}
