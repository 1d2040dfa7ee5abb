package scheduling

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func mustReq(t *testing.T, key string, op corev1.NodeSelectorOperator, values ...string) *Requirement {
	t.Helper()
	r, err := NewRequirement(key, op, values...)
	if err != nil {
		t.Fatalf("NewRequirement(%s %s %v): %v", key, op, values, err)
	}
	return r
}

const (
	opIn     = corev1.NodeSelectorOpIn
	opNotIn  = corev1.NodeSelectorOpNotIn
	opExists = corev1.NodeSelectorOpExists
	opDNE    = corev1.NodeSelectorOpDoesNotExist
	opGt     = corev1.NodeSelectorOpGt
	opLt     = corev1.NodeSelectorOpLt
)

type reqSpec struct {
	op     corev1.NodeSelectorOperator
	values []string
}

func rs(op corev1.NodeSelectorOperator, values ...string) reqSpec { return reqSpec{op, values} }

func TestRequirementIntersect(t *testing.T) {
	cases := []struct {
		name       string
		a, b       reqSpec
		want       string // String() of the intersection
		satisfied  bool   // Satisfiable()
		absentOK   bool   // AllowsAbsent()
		has, hasnt []string
	}{
		{"In∩In overlap", rs(opIn, "a", "b"), rs(opIn, "b", "c"), "k In [b]", true, false, []string{"b"}, []string{"a", "c"}},
		{"In∩In disjoint", rs(opIn, "a"), rs(opIn, "b"), "k In []", false, false, nil, []string{"a", "b"}},
		{"In∩NotIn", rs(opIn, "a", "b"), rs(opNotIn, "a"), "k In [b]", true, false, []string{"b"}, []string{"a"}},
		{"NotIn∩In", rs(opNotIn, "a"), rs(opIn, "a", "b"), "k In [b]", true, false, []string{"b"}, []string{"a"}},
		{"NotIn∩NotIn", rs(opNotIn, "a"), rs(opNotIn, "b"), "k NotIn [a,b]", true, true, []string{"c"}, []string{"a", "b"}},
		{"In∩Exists", rs(opIn, "a"), rs(opExists), "k In [a]", true, false, []string{"a"}, []string{"b"}},
		{"Exists∩NotIn keeps must-exist", rs(opExists), rs(opNotIn, "a"), "k Exists NotIn [a]", true, false, []string{"b"}, []string{"a"}},
		{"In∩DoesNotExist", rs(opIn, "a"), rs(opDNE), "k In []", false, false, nil, []string{"a"}},
		{"Exists∩DoesNotExist", rs(opExists), rs(opDNE), "k In []", false, false, nil, []string{"a"}},
		{"NotIn∩DoesNotExist: absent only", rs(opNotIn, "a"), rs(opDNE), "k DoesNotExist", true, true, nil, []string{"a", "b"}},
		{"Gt∩Lt range", rs(opGt, "2"), rs(opLt, "5"), "k >2 <5", true, false, []string{"3", "4"}, []string{"2", "5", "x"}},
		{"Gt∩Lt adjacent is empty", rs(opGt, "4"), rs(opLt, "5"), "k >4 <5", false, false, nil, []string{"4", "5"}},
		{"Gt∩In filters values", rs(opGt, "4"), rs(opIn, "2", "8", "16", "x"), "k In [16,8] >4", true, false, []string{"8", "16"}, []string{"2", "x"}},
		{"Lt∩NotIn", rs(opLt, "10"), rs(opNotIn, "4"), "k NotIn [4] <10", true, false, []string{"3", "9"}, []string{"4", "10"}},
		{"Gt∩Gt tighter wins", rs(opGt, "2"), rs(opGt, "6"), "k >6", true, false, []string{"7"}, []string{"6"}},
		{"Gt∩Lt single value", rs(opGt, "4"), rs(opLt, "6"), "k >4 <6", true, false, []string{"5"}, []string{"4", "6"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mustReq(t, "k", tc.a.op, tc.a.values...).Intersect(mustReq(t, "k", tc.b.op, tc.b.values...))
			if got.String() != tc.want {
				t.Errorf("String() = %q, want %q", got.String(), tc.want)
			}
			if got.Satisfiable() != tc.satisfied {
				t.Errorf("Satisfiable() = %v, want %v", got.Satisfiable(), tc.satisfied)
			}
			if got.AllowsAbsent() != tc.absentOK {
				t.Errorf("AllowsAbsent() = %v, want %v", got.AllowsAbsent(), tc.absentOK)
			}
			for _, v := range tc.has {
				if !got.Has(v) {
					t.Errorf("Has(%q) = false, want true", v)
				}
			}
			for _, v := range tc.hasnt {
				if got.Has(v) {
					t.Errorf("Has(%q) = true, want false", v)
				}
			}
			// Intersection is commutative in what it allows.
			rev := mustReq(t, "k", tc.b.op, tc.b.values...).Intersect(mustReq(t, "k", tc.a.op, tc.a.values...))
			if rev.Satisfiable() != got.Satisfiable() || rev.AllowsAbsent() != got.AllowsAbsent() {
				t.Errorf("b∩a = %s differs from a∩b = %s", rev, got)
			}
		})
	}
}

func TestRequirementIntegerRangeExhaustedByNotIn(t *testing.T) {
	r := mustReq(t, "k", opGt, "4").Intersect(mustReq(t, "k", opLt, "7")).Intersect(mustReq(t, "k", opNotIn, "5", "6"))
	if r.Has("5") || r.Has("6") {
		t.Fatalf("%s allows an excluded value", r)
	}
	if r.Satisfiable() {
		t.Errorf("%s: every integer in (4,7) is excluded, yet Satisfiable() = true", r)
	}
	r = mustReq(t, "k", opGt, "4").Intersect(mustReq(t, "k", opLt, "8")).Intersect(mustReq(t, "k", opNotIn, "5", "6"))
	if !r.Satisfiable() || !r.Has("7") {
		t.Errorf("%s must still allow 7", r)
	}
}

func TestNewRequirementErrors(t *testing.T) {
	for _, tc := range []struct {
		op     corev1.NodeSelectorOperator
		values []string
	}{
		{opGt, nil}, {opGt, []string{"1", "2"}}, {opLt, []string{"x"}}, {"Near", []string{"a"}},
	} {
		if _, err := NewRequirement("k", tc.op, tc.values...); err == nil {
			t.Errorf("NewRequirement(k %s %v): want an error", tc.op, tc.values)
		}
	}
}

func TestRequirementsConflict(t *testing.T) {
	mk := func(reqs ...corev1.NodeSelectorRequirement) Requirements {
		t.Helper()
		r, err := NewRequirements(reqs...)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	cases := []struct {
		name string
		a, b Requirements
		want string
	}{
		{"disjoint keys", mk(nsr("a", opIn, "1")), mk(nsr("b", opIn, "2")), ""},
		{"overlap", mk(nsr("a", opIn, "1", "2")), mk(nsr("a", opIn, "2", "3")), ""},
		{"disjoint values", mk(nsr("a", opIn, "1")), mk(nsr("a", opIn, "2")), "a"},
		{"first conflicting key in sorted order", mk(nsr("z", opIn, "1"), nsr("m", opIn, "1"), nsr("b", opIn, "1")),
			mk(nsr("z", opIn, "2"), nsr("m", opIn, "2"), nsr("b", opIn, "1")), "m"},
		{"exists vs does-not-exist", mk(nsr("a", opExists)), mk(nsr("a", opDNE)), "a"},
		{"notin vs does-not-exist", mk(nsr("a", opNotIn, "x")), mk(nsr("a", opDNE)), ""},
		{"in vs notin same value", mk(nsr("a", opIn, "x")), mk(nsr("a", opNotIn, "x")), "a"},
		{"gt vs in below", mk(nsr("cpu", opGt, "8")), mk(nsr("cpu", opIn, "4", "8")), "cpu"},
		{"gt vs lt disjoint", mk(nsr("cpu", opGt, "8")), mk(nsr("cpu", opLt, "4")), "cpu"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Conflict(tc.b); got != tc.want {
				t.Errorf("a.Conflict(b) = %q, want %q", got, tc.want)
			}
			if got := tc.b.Conflict(tc.a); got != tc.want {
				t.Errorf("b.Conflict(a) = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRequirementsSatisfiedBy(t *testing.T) {
	node := map[string]string{"arch": "amd64", "cpu": "8", "team": "a"}
	cases := []struct {
		name string
		reqs []corev1.NodeSelectorRequirement
		ok   bool
		key  string
	}{
		{"empty", nil, true, ""},
		{"in", []corev1.NodeSelectorRequirement{nsr("arch", opIn, "amd64", "arm64")}, true, ""},
		{"in mismatch", []corev1.NodeSelectorRequirement{nsr("arch", opIn, "arm64")}, false, "arch"},
		{"in absent label", []corev1.NodeSelectorRequirement{nsr("gpu", opIn, "a100")}, false, "gpu"},
		{"notin absent label", []corev1.NodeSelectorRequirement{nsr("gpu", opNotIn, "a100")}, true, ""},
		{"notin present", []corev1.NodeSelectorRequirement{nsr("team", opNotIn, "a")}, false, "team"},
		{"exists", []corev1.NodeSelectorRequirement{nsr("team", opExists)}, true, ""},
		{"exists absent", []corev1.NodeSelectorRequirement{nsr("gpu", opExists)}, false, "gpu"},
		{"does-not-exist present", []corev1.NodeSelectorRequirement{nsr("team", opDNE)}, false, "team"},
		{"does-not-exist absent", []corev1.NodeSelectorRequirement{nsr("gpu", opDNE)}, true, ""},
		{"gt", []corev1.NodeSelectorRequirement{nsr("cpu", opGt, "4")}, true, ""},
		{"gt fails", []corev1.NodeSelectorRequirement{nsr("cpu", opGt, "8")}, false, "cpu"},
		{"lt absent", []corev1.NodeSelectorRequirement{nsr("mem", opLt, "8")}, false, "mem"},
		{"gt on non-integer", []corev1.NodeSelectorRequirement{nsr("arch", opGt, "1")}, false, "arch"},
		{"first failing key sorted", []corev1.NodeSelectorRequirement{nsr("team", opIn, "b"), nsr("arch", opIn, "arm64")}, false, "arch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRequirements(tc.reqs...)
			if err != nil {
				t.Fatal(err)
			}
			ok, key := r.SatisfiedBy(node)
			if ok != tc.ok || key != tc.key {
				t.Errorf("SatisfiedBy = %v, %q; want %v, %q", ok, key, tc.ok, tc.key)
			}
		})
	}
}

func TestRequirementsRoundTrip(t *testing.T) {
	in := []corev1.NodeSelectorRequirement{
		nsr("a", opIn, "2", "1"), nsr("b", opNotIn, "x"), nsr("c", opExists), nsr("d", opDNE),
		nsr("e", opGt, "3"), nsr("e", opLt, "9"),
	}
	r, err := NewRequirements(in...)
	if err != nil {
		t.Fatal(err)
	}
	back, err := NewRequirements(r.NodeSelectorRequirements()...)
	if err != nil {
		t.Fatal(err)
	}
	if r.String() != back.String() {
		t.Errorf("round trip changed the set: %s -> %s", r, back)
	}
	if want := "a In [1,2], b NotIn [x], c Exists, d DoesNotExist, e >3 <9"; r.String() != want {
		t.Errorf("String() = %q, want %q", r.String(), want)
	}
	// Exists ∩ NotIn must keep "the label must exist" when rendered for a NodeClaim.
	r2, _ := NewRequirements(nsr("team", opExists), nsr("team", opNotIn, "x"))
	back2, _ := NewRequirements(r2.NodeSelectorRequirements()...)
	if ok, _ := back2.SatisfiedBy(map[string]string{}); ok {
		t.Errorf("rendered %v lost the Exists part: a node without the label satisfies it", r2.NodeSelectorRequirements())
	}
}

func TestRequirementsAllowsChecksOnlyTheLabelsGiven(t *testing.T) {
	rs := Requirements{}
	rs.Add(mustReq(t, "arch", opIn, "arm64"))
	rs.Add(mustReq(t, "zone", corev1.NodeSelectorOpExists))
	for name, tc := range map[string]struct {
		labels map[string]string
		want   bool
	}{
		"allowed value":          {map[string]string{"arch": "arm64"}, true},
		"ruled-out value":        {map[string]string{"arch": "amd64"}, false},
		"required key absent":    {map[string]string{"arch": "arm64", "family": "c7g"}, true},
		"unconstrained key only": {map[string]string{"family": "c7g"}, true},
	} {
		if got := rs.Allows(tc.labels); got != tc.want {
			t.Errorf("%s: Allows = %v, want %v", name, got, tc.want)
		}
	}
	if !rs.AllowsValue("family", "anything") || rs.AllowsValue("arch", "amd64") {
		t.Error("AllowsValue: want any value for a free key and none outside In")
	}
}
