package harness

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// A step's pods are its first n: a replacement made later for a moved pod
// does not move the step's creation time, and a deleted pod still counts.
func TestCreatedIsTheNthPodOfTheWorkload(t *testing.T) {
	t0 := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	c := &PodClock{seen: map[types.UID]*podTimes{
		"a": {workload: "step-0", created: t0.Add(2 * time.Second), gone: true},
		"b": {workload: "step-0", created: t0},
		"c": {workload: "step-0", created: t0.Add(time.Second)},
		"d": {workload: "step-0", created: t0.Add(time.Minute)}, // a replacement
		"e": {workload: "step-1", created: t0.Add(3 * time.Second)},
	}}
	if got := c.Created("step-0", 3); !got.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("third pod of step-0 created at %s, want %s", got, t0.Add(2*time.Second))
	}
	if got := c.Created("step-0", 5); !got.IsZero() {
		t.Errorf("step-0 has four pods, yet the fifth was created at %s", got)
	}
}
