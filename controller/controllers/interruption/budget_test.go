package interruption

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

func claims(disrupting map[string]bool, names ...string) []v1.NodeClaim {
	out := make([]v1.NodeClaim, len(names))
	for i, n := range names {
		out[i].ObjectMeta = metav1.ObjectMeta{Name: n}
		if disrupting[n] {
			out[i].Annotations = map[string]string{DeleteByAnnotationKey: "2026-01-01T00:00:00Z"}
		}
	}
	return out
}

// A read of the cache older than the last change to the reservations may
// not count against them: here the newer read saw claim a disrupting and
// dropped its reservation, which the older read, not seeing a disrupting,
// would have left uncounted and so taken a third unit of a budget of two.
func TestReservationsRefuseAnOlderRead(t *testing.T) {
	var r budgetReservations
	before := claims(nil, "a", "b", "c")
	if taken, current := r.take(r.epoch, "p", "a", before, 2); !taken || !current {
		t.Fatalf("first reservation: taken %v, current %v", taken, current)
	}
	epoch := r.epoch
	stale := claims(nil, "a", "b", "c")                        // read before a showed disrupting
	fresh := claims(map[string]bool{"a": true}, "a", "b", "c") // read after
	if taken, current := r.take(epoch, "p", "c", fresh, 2); !taken || !current {
		t.Fatalf("c with the fresh read: taken %v, current %v", taken, current)
	}
	if _, current := r.take(epoch, "p", "b", stale, 2); current {
		t.Fatal("a read older than the reservations' last change was counted against them")
	}
	// Read again, b finds the budget spent by a (visible) and c (reserved).
	if taken, current := r.take(r.epoch, "p", "b", fresh, 2); taken || !current {
		t.Errorf("b with a new read: taken %v, current %v; want refused", taken, current)
	}
}
