package scheduling_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
	"github.com/nodewright/nodewright/controller/simulate"
)

// TestNeverWorseThanFirstFitDecreasing compares plans with the textbook
// algorithm over the same inputs. On the benchmark's synthetic catalog
// (price linear in size) the plan must use no more nodes and cost no more.
// On the real EC2 catalog, where small types are cheaper per unit, the
// plan must cost no more; it may use more, smaller nodes to get there.
func TestNeverWorseThanFirstFitDecreasing(t *testing.T) {
	ec2, err := simulate.EC2Catalog("us-east-1", []string{"us-east-1a", "us-east-1b", "us-east-1c"}, 0, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		types    []*scheduling.InstanceType
		pods     int
		nodesToo bool
	}{
		{"synthetic", workloads.SyntheticInstanceTypes(400), 1000, true},
		{"synthetic", workloads.SyntheticInstanceTypes(400), 3000, true},
		{"ec2", ec2, 1000, false},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.name, tc.pods), func(t *testing.T) {
			in := scheduling.Input{Pods: workloads.DiversePods(tc.pods), NodePools: []*scheduling.NodePool{workloads.DefaultNodePool(tc.types)}}
			ours, err := scheduling.Solve(in)
			if err != nil {
				t.Fatal(err)
			}
			ffd, err := scheduling.SolveWith(in, scheduling.Options{PlainFirstFitDecreasing: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("engine: %d nodes $%.2f/h; plain FFD: %d nodes $%.2f/h", len(ours.NodeClaims), ours.TotalPrice, len(ffd.NodeClaims), ffd.TotalPrice)
			if len(ours.Unschedulable) > len(ffd.Unschedulable) {
				t.Errorf("engine leaves %d pods unschedulable, FFD %d", len(ours.Unschedulable), len(ffd.Unschedulable))
			}
			if ours.TotalPrice > ffd.TotalPrice*(1+1e-9) {
				t.Errorf("engine costs $%.4f/h, more than plain FFD's $%.4f/h", ours.TotalPrice, ffd.TotalPrice)
			}
			if tc.nodesToo && len(ours.NodeClaims) > len(ffd.NodeClaims) {
				t.Errorf("engine uses %d nodes, more than plain FFD's %d", len(ours.NodeClaims), len(ffd.NodeClaims))
			}
		})
	}
}
