package provisioning_test

import "testing"

// TakeSnapshot asks the cloud provider for each launchable pool's volume
// cost; a pool it cannot price is still in the snapshot.
func TestSnapshotHasEachPoolsVolumeCost(t *testing.T) {
	e := setup(t)
	e.pool("priced", "default", 10)
	e.pool("unpriced", "default", 20)
	e.cloud.SetVolumeCost("priced", 0.0219)

	snap, err := e.p.TakeSnapshot(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.NodeVolumes["priced"]; got != 0.0219 {
		t.Errorf("priced pool volumes %v, want the cloud's 0.0219", got)
	}
	if got, ok := snap.NodeVolumes["unpriced"]; !ok || got != 0 {
		t.Errorf("unpriced pool volumes %v (listed %v), want 0 and listed", got, ok)
	}
	if e.cloud.Calls["NodeVolumeCost"] < 2 {
		t.Errorf("NodeVolumeCost called %d times, want once per pool", e.cloud.Calls["NodeVolumeCost"])
	}
}
