package cron_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	robfig "github.com/robfig/cron/v3"

	"github.com/nodewright/nodewright/controller/cron"
	"github.com/nodewright/nodewright/controller/cron/crontest"
)

func TestParse(t *testing.T) {
	wed := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC) // a Wednesday
	sat := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		spec    string
		at      time.Time
		matches bool
		wantErr string
	}{
		{spec: "0 9 * * mon-fri", at: wed, matches: true},
		{spec: "0 9 * * mon-fri", at: sat},
		{spec: "0 9 * * MON-Fri", at: wed, matches: true},
		{spec: "0 9 * dec wed", at: wed, matches: true},
		{spec: "0 9 * jan-nov *", at: wed},
		{spec: "0 9 * * sat,sun", at: sat, matches: true},
		{spec: "*/15 9 * * *", at: wed, matches: true},
		{spec: "5/15 9 * * *", at: wed.Add(20 * time.Minute), matches: true},
		{spec: "0 9 1 * sat", at: sat, matches: true}, // both day fields restricted: either matches
		{spec: "0 9 1-31/2 * sat", at: wed},           // a step makes dom restricted: 2nd is not odd, Wednesday is not Saturday
		{spec: "0 9 * * 1-5/1", at: wed, matches: true},
		{spec: "@daily", at: wed.Add(-9 * time.Hour), matches: true},
		{spec: "@hourly", at: wed, matches: true},
		{spec: "0  9 * *   wed", at: wed, matches: true},
		{spec: "0 9 * * 7", wantErr: "day of week field: \"7\": 7 is above the maximum 6"},
		{spec: "0 9 * * fri-mon", wantErr: "range starts after it ends"},
		{spec: "0 9 * mon *", wantErr: "month field: \"mon\" is not a number or a name"},
		{spec: "0 9 * *", wantErr: "want 5 fields"},
		{spec: "*/0 * * * *", wantErr: "the step must be a positive number"},
		{spec: "TZ=UTC 0 9 * * *", wantErr: "time zones are not supported"},
		{spec: "@every 1h", wantErr: "@every is not supported"},
		{spec: "@fortnightly", wantErr: "unknown macro"},
		{spec: "", wantErr: "empty schedule"},
	} {
		s, err := cron.Parse(tc.spec)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(%q) error = %v, want it to contain %q", tc.spec, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.spec, err)
			continue
		}
		if got := s.Matches(tc.at); got != tc.matches {
			t.Errorf("%q Matches(%s) = %v, want %v", tc.spec, tc.at.Format(time.RFC1123), got, tc.matches)
		}
	}
}

func TestWindow(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC) // a Friday
	for _, tc := range []struct {
		spec   string
		d      time.Duration
		end    time.Time
		active bool
	}{
		{"0 9 * * mon-fri", 8 * time.Hour, time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC), true},
		{"0 9 * * sat,sun", 8 * time.Hour, time.Time{}, false},
		{"0 10 * * *", 30 * time.Minute, time.Time{}, false}, // closed exactly now
		{"30 10 * * *", time.Minute, time.Date(2026, 12, 4, 10, 31, 0, 0, time.UTC), true},
		{"*/20 * * * *", 15 * time.Minute, time.Date(2026, 12, 4, 10, 35, 0, 0, time.UTC), true},
		{"0 0 30 2 *", 1000 * time.Hour, time.Time{}, false},
		{"0 9 * * fri", 0, time.Time{}, false},
	} {
		s, err := cron.Parse(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		end, active := s.Window(tc.d, now)
		if active != tc.active || !end.Equal(tc.end) {
			t.Errorf("%q Window(%v) = %v, %v; want %v, %v", tc.spec, tc.d, end, active, tc.end, tc.active)
		}
	}
}

// TestAgreesWithCronJobs checks Parse against robfig/cron's standard
// parser, which Kubernetes validates CronJob schedules with: the same
// expressions are accepted, and accepted ones fire at the same times.
func TestAgreesWithCronJobs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	accepted := 0
	for range n {
		spec := crontest.Expression(r)
		ours, err := cron.Parse(spec)
		ref, refErr := robfig.ParseStandard(spec)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("%q: Parse error %v, CronJob parser error %v", spec, err, refErr)
		}
		if err != nil {
			continue
		}
		accepted++
		at := time.Date(2026+r.IntN(4), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e9), time.UTC)
		for i := 0; i < 3; i++ {
			// robfig works in the schedule's location, time.Local without a TZ=.
			want, got := ref.Next(at.In(time.Local)).UTC(), ours.Next(at)
			if !got.Equal(want) {
				t.Fatalf("%q: Next(%s) = %s, CronJobs say %s", spec, at, got, want)
			}
			if !got.IsZero() && !ours.Matches(got) {
				t.Fatalf("%q: Next %s does not match", spec, got)
			}
			if got.IsZero() {
				break
			}
			at = got
		}
	}
	if accepted < n/10 {
		t.Fatalf("only %d of %d random expressions were valid: the generator is too wild to test much", accepted, n)
	}
	t.Logf("%d of %d random expressions valid; all agree with the CronJob parser", accepted, n)
}

// TestWindowMatchesKarpenter compares Window with Karpenter's rule for an
// active budget: the first tick after now-duration is not after now.
func TestWindowMatchesKarpenter(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for checked := 0; checked < 3000; {
		spec := crontest.Expression(r)
		ours, err := cron.Parse(spec)
		if err != nil {
			continue
		}
		ref, err := robfig.ParseStandard("TZ=UTC " + spec)
		if err != nil {
			t.Fatalf("%q: %v", spec, err)
		}
		checked++
		now := time.Date(2026, time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, time.UTC)
		d := time.Duration(1+r.IntN(72*60)) * time.Minute
		end, active := ours.Window(d, now)
		first := ref.Next(now.Add(-d))
		want := !first.IsZero() && !first.After(now)
		if active != want {
			t.Fatalf("%q at %s for %v: active %v, Karpenter says %v", spec, now, d, active, want)
		}
		if active && (!end.After(now) || end.After(now.Add(d))) {
			t.Fatalf("%q at %s for %v: window ends %s", spec, now, d, end)
		}
	}
}

// TestValidateIsStricterThanParse: what Validate (and so the CRD) admits,
// Parse accepts.
func TestValidateIsStricterThanParse(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	admitted := 0
	for range 20000 {
		spec := crontest.Expression(r)
		if cron.Validate(spec) != nil {
			continue
		}
		admitted++
		if _, err := cron.Parse(spec); err != nil {
			t.Fatalf("%q validates but does not parse: %v", spec, err)
		}
	}
	for _, spec := range []string{"0 9 * * mon-fri", "@daily", "*/5 0-6,22-23 1,15 jan-mar,DEC ?"} {
		if err := cron.Validate(spec); err != nil {
			t.Errorf("Validate(%q): %v", spec, err)
		}
	}
	for _, spec := range []string{"*-5 * * * *", "1,,2 * * * *", "0\t9 * * *", "0 9 * * fri-mon"} {
		if err := cron.Validate(spec); err == nil {
			t.Errorf("Validate(%q) accepted it", spec)
		}
	}
	t.Logf("%d of 20000 random expressions validate", admitted)
}

func BenchmarkWindow(b *testing.B) {
	s, err := cron.Parse("* * * * *")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC)
	for b.Loop() {
		s.Window(24*time.Hour, now)
	}
}
