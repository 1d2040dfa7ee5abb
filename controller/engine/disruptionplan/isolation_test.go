package disruptionplan

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

func TestValidateBudgets(t *testing.T) {
	str := func(s string) *string { return &s }
	hour := &metav1.Duration{Duration: time.Hour}
	for _, tc := range []struct {
		name    string
		budgets []v1.Budget
		want    []string // substrings of the error; none means valid
	}{
		{"none", nil, nil},
		{"count, percentage, default and a window", []v1.Budget{{Nodes: "3"}, {Nodes: "10%"}, {}, {Nodes: "0", Schedule: str("0 9 * * 1-5"), Duration: hour}}, nil},
		{"macro", []v1.Budget{{Nodes: "0", Schedule: str("@daily"), Duration: hour}}, nil},
		{"nodes not a count", []v1.Budget{{Nodes: "3"}, {Nodes: "three"}}, []string{"budget 1", `"three"`}},
		{"percentage over 100", []v1.Budget{{Nodes: "150%"}}, []string{"budget 0", "not a percentage"}},
		{"hour out of range", []v1.Budget{{Nodes: "0", Schedule: str("0 25 * * *"), Duration: hour}}, []string{"budget 0", "hour field"}},
		{"both wrong, both said", []v1.Budget{{Nodes: "x", Schedule: str("* * *"), Duration: hour}}, []string{`"x"`, "want 5 fields"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateBudgets(tc.budgets)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("ValidateBudgets = %v, want valid", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateBudgets accepted %+v", tc.budgets)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// A pool whose budget cannot be evaluated is skipped: its nodes are not
// candidates and no replacement goes into it, while the other pools'
// nodes are disrupted as usual.
func TestMalformedBudgetSkipsOnlyItsPool(t *testing.T) {
	types := catalog(8)
	hour := &metav1.Duration{Duration: time.Hour}
	bad := "0 25 * * *" // admitted by an older CRD, kept by the API server
	heavy := func(np *v1.NodePool) { w := int32(50); np.Spec.Weight = &w }
	broken := newPool("broken", types, heavy, budgets(v1.Budget{Nodes: "100%"}, v1.Budget{Nodes: "0", Schedule: &bad, Duration: hour}))
	good := newPool("good", types)

	t.Run("emptiness", func(t *testing.T) {
		s := snapshot([]*Pool{broken, good},
			newNode("broken-empty", broken, "t-2x", od, nil),
			newNode("good-empty", good, "t-2x", od, nil),
		)
		res := evaluate(t, s, Options{})
		d := only(t, res)
		if d.Method != MethodEmptiness || strings.Join(names(d.Candidates), ",") != "good-empty" {
			t.Fatalf("decision %s on %v, want emptiness of good-empty", d.Method, names(d.Candidates))
		}
		if r := blockedReason(res, "broken-empty"); !strings.Contains(r, "nodepool broken budgets cannot be evaluated") || !strings.Contains(r, "25") {
			t.Errorf("broken-empty blocked for %q", r)
		}
		if len(res.Skipped) != 1 || res.Skipped[0].NodePool != "broken" || !strings.Contains(res.Skipped[0].Reason, "budget 1") {
			t.Errorf("skipped %+v", res.Skipped)
		}
	})

	t.Run("consolidation replaces into a good pool only", func(t *testing.T) {
		// An 8x node with one small pod: a 1x replacement saves money. The
		// broken pool is heavier, so the solver would pick it first.
		s := snapshot([]*Pool{broken, good}, newNode("good-big", good, "t-8x", od, pods(1, "500m")))
		res := evaluate(t, s, Options{})
		d := only(t, res)
		if strings.Join(names(d.Candidates), ",") != "good-big" {
			t.Fatalf("candidates %v, want good-big only: %s", names(d.Candidates), d.Message)
		}
		if len(d.Replacements) != 1 {
			t.Fatalf("want one replacement: %s", d.Message)
		}
		for _, r := range d.Replacements {
			if r.NodePool != "good" {
				t.Errorf("replacement launched into nodepool %s", r.NodePool)
			}
		}
	})
}
