package disruptionplan

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

func TestAllowed(t *testing.T) {
	now := time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC) // a Wednesday
	str := func(s string) *string { return &s }
	hour := &metav1.Duration{Duration: time.Hour}
	for _, tc := range []struct {
		name    string
		budgets []v1.Budget
		total   int
		want    int
	}{
		{"default 10% rounds up", nil, 11, 2},
		{"default with no nodes", nil, 0, 0},
		{"count", []v1.Budget{{Nodes: "3"}}, 10, 3},
		{"zero blocks", []v1.Budget{{Nodes: "0"}}, 10, 0},
		{"percent rounds up", []v1.Budget{{Nodes: "25%"}}, 5, 2},
		{"most restrictive wins", []v1.Budget{{Nodes: "50%"}, {Nodes: "1"}}, 10, 1},
		{"other reason ignored", []v1.Budget{{Nodes: "0", Reasons: []v1.DisruptionReason{v1.DisruptionReasonDrifted}}, {Nodes: "2"}}, 10, 2},
		{"matching reason applies", []v1.Budget{{Nodes: "0", Reasons: []v1.DisruptionReason{v1.DisruptionReasonEmpty}}}, 10, 0},
		{"active window", []v1.Budget{{Nodes: "0", Schedule: str("0 10 * * *"), Duration: hour}}, 10, 0},
		{"inactive window", []v1.Budget{{Nodes: "0", Schedule: str("0 12 * * *"), Duration: hour}}, 10, 10},
		{"weekday window", []v1.Budget{{Nodes: "0", Schedule: str("0 9 * * 1-5"), Duration: &metav1.Duration{Duration: 2 * time.Hour}}}, 10, 0},
		{"weekday names, inside", []v1.Budget{{Nodes: "0", Schedule: str("0 9 * * mon-fri"), Duration: &metav1.Duration{Duration: 2 * time.Hour}}}, 10, 0},
		{"weekday names, outside", []v1.Budget{{Nodes: "0", Schedule: str("0 9 * * sat,sun"), Duration: &metav1.Duration{Duration: 2 * time.Hour}}}, 10, 10},
		{"weekend window", []v1.Budget{{Nodes: "0", Schedule: str("0 9 * * 0,6"), Duration: &metav1.Duration{Duration: 2 * time.Hour}}}, 10, 10},
		{"daily macro, window passed", []v1.Budget{{Nodes: "0", Schedule: str("@daily"), Duration: hour}}, 10, 10},
		{"hourly macro", []v1.Budget{{Nodes: "0", Schedule: str("@hourly"), Duration: hour}}, 10, 0},
		{"step minutes", []v1.Budget{{Nodes: "0", Schedule: str("*/20 * * * *"), Duration: &metav1.Duration{Duration: 5 * time.Minute}}}, 10, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Allowed(tc.budgets, v1.DisruptionReasonEmpty, tc.total, now)
			if err != nil || got != tc.want {
				t.Fatalf("Allowed = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"61 * * * *", "* * *", "0 9 * * fri-mon"} {
		b := []v1.Budget{{Nodes: "0", Schedule: str(bad), Duration: hour}}
		if _, err := Allowed(b, v1.DisruptionReasonEmpty, 10, now); err == nil {
			t.Errorf("schedule %q accepted", bad)
		}
	}
}

func TestWindowEnd(t *testing.T) {
	now := time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		schedule string
		d        time.Duration
		want     time.Time
		active   bool
	}{
		{"0 10 * * *", time.Hour, time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC), true},
		{"*/20 * * * *", 15 * time.Minute, time.Date(2026, 3, 4, 10, 35, 0, 0, time.UTC), true},
		{"0 12 * * *", time.Hour, time.Time{}, false},
	} {
		got, active, err := WindowEnd(tc.schedule, tc.d, now)
		if err != nil || active != tc.active || !got.Equal(tc.want) {
			t.Errorf("WindowEnd(%q, %v) = %v, %v, %v; want %v, %v", tc.schedule, tc.d, got, active, err, tc.want, tc.active)
		}
	}
}
