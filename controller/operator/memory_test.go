package operator

import "testing"

func TestSoftMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	if got, ok := softMemoryLimit(1 << 30); !ok || got != 966367641 {
		t.Errorf("1 GiB limit: got %d, %v; want 90%% of it", got, ok)
	}
	for _, limit := range []int{0, -1} {
		if _, ok := softMemoryLimit(limit); ok {
			t.Errorf("limit %d: the runtime's limit must be left alone", limit)
		}
	}
	t.Setenv("GOMEMLIMIT", "300MiB")
	if _, ok := softMemoryLimit(1 << 30); ok {
		t.Error("an explicit GOMEMLIMIT must win over the container's limit")
	}
}
