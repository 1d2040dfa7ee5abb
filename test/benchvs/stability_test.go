package benchvs

import (
	"testing"
	"time"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// sweepFrom is a fixed start, so the test reads the same spot prices on
// every run (the catalog's spot prices are a function of the hour).
var sweepFrom = time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)

// The seed walkthrough's plan is what a person would pick at every hour of
// two days of spot prices: one or two nodes, no dearer than first-fit
// decreasing and within 10% of the lower bound. (make bench-vs-karpenter
// sweeps all 48 hours; this samples every sixth.)
func TestWalkthroughPlanStaysObvious(t *testing.T) {
	for h := 0; h < 48; h += 6 {
		at := sweepFrom.Add(time.Duration(h) * time.Hour)
		ws, err := Workloads(at, nil)
		if err != nil {
			t.Fatal(err)
		}
		w := ws[len(ws)-1]
		res, ffd, bound := solveAll(t, w)
		if n := len(res.NodeClaims); n > 2 {
			t.Errorf("%s: %d nodes for ten 1-CPU pods", at.Format(time.RFC3339), n)
		}
		if res.TotalPrice > ffd.TotalPrice*(1+1e-9) {
			t.Errorf("%s: $%.4f/h, dearer than first-fit decreasing's $%.4f/h", at.Format(time.RFC3339), res.TotalPrice, ffd.TotalPrice)
		}
		if res.TotalPrice > bound*1.10 {
			t.Errorf("%s: $%.4f/h, more than 10%% over the lower bound $%.4f/h", at.Format(time.RFC3339), res.TotalPrice, bound)
		}
	}
}

// The realistic 1 000 never plans dearer than first-fit decreasing, and
// never below the lower bound (which would make the bound wrong).
func TestRealisticPlanNeverWorseThanFirstFit(t *testing.T) {
	for h := 0; h < 48; h += 12 {
		at := sweepFrom.Add(time.Duration(h) * time.Hour)
		ws, err := Workloads(at, []int{1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			if w.Name != "realistic 1000" {
				continue
			}
			res, ffd, bound := solveAll(t, w)
			if res.TotalPrice > ffd.TotalPrice*(1+1e-9) {
				t.Errorf("%s: $%.3f/h, dearer than first-fit decreasing's $%.3f/h", at.Format(time.RFC3339), res.TotalPrice, ffd.TotalPrice)
			}
			if bound > res.TotalPrice*(1+1e-9) {
				t.Errorf("%s: lower bound $%.3f/h above a feasible plan's $%.3f/h", at.Format(time.RFC3339), bound, res.TotalPrice)
			}
			t.Logf("%s: $%.3f/h on %d nodes; first-fit decreasing $%.3f/h; bound $%.3f/h (gap %.3f)",
				at.Format(time.RFC3339), res.TotalPrice, len(res.NodeClaims), ffd.TotalPrice, bound, res.TotalPrice/bound)
		}
	}
}

func solveAll(t *testing.T, w Workload) (res, ffd *scheduling.Result, bound float64) {
	t.Helper()
	res, err := scheduling.Solve(w.In)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unschedulable) > 0 {
		t.Fatalf("%s: %d pods unschedulable, first: %s", w.Name, len(res.Unschedulable), res.Unschedulable[0].Reason)
	}
	if ffd, err = scheduling.SolveWith(w.In, scheduling.Options{PlainFirstFitDecreasing: true}); err != nil {
		t.Fatal(err)
	}
	if bound, err = scheduling.LowerBound(w.In); err != nil {
		t.Fatal(err)
	}
	return res, ffd, bound
}
