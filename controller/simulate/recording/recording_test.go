package recording_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/simulate"
	"github.com/nodewright/nodewright/controller/simulate/recording"
)

var examples = filepath.Join("..", "..", "..", "examples", "simulate")

// solveRecord solves the shipped simulate example as the provisioner
// would, at the given time, with the general pool's limit nearly used up.
func solveRecord(t *testing.T, at time.Time) (*provisioning.SolveRecord, *v1.EC2NodeClass) {
	t.Helper()
	var objs simulate.Objects
	for _, f := range []string{"workload.yaml", "nodepools.yaml"} {
		if err := simulate.ReadFile(filepath.Join(examples, f), &objs); err != nil {
			t.Fatal(err)
		}
	}
	in, err := simulate.Load(simulate.Options{PodsFile: filepath.Join(examples, "workload.yaml"), NodePoolsFile: filepath.Join(examples, "nodepools.yaml"), At: at})
	if err != nil {
		t.Fatal(err)
	}
	// The provisioner counts usage fresher than status: 994 of the general
	// pool's 1000 CPUs, so its limit bites.
	for _, np := range in.NodePools {
		if np.Name == "general" {
			np.InUse = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("994"), "nodes": resource.MustParse("3")}
		}
	}
	began := time.Now()
	res, err := scheduling.Solve(in)
	if err != nil {
		t.Fatal(err)
	}
	return &provisioning.SolveRecord{Began: began, Snapshot: &provisioning.Snapshot{NodePools: objs.NodePools}, Input: in, Result: res,
		SolveTime: time.Since(began)}, objs.NodeClasses["default"]
}

// TestRecordReplays records a solve, replays the files with simulate at the
// recorded time, and gets the recorded plan back.
func TestRecordReplays(t *testing.T) {
	pricesAt := time.Date(2026, 11, 1, 14, 20, 0, 0, time.UTC)
	rec, nc := solveRecord(t, pricesAt)
	if len(rec.Result.Unschedulable) < 2 {
		t.Fatalf("the limit should leave pods out: %d unschedulable", len(rec.Result.Unschedulable))
	}
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "solves")
	r, err := recording.New(dir, "us-east-1", func() time.Time { return pricesAt }, fake.NewClientBuilder().WithScheme(scheme).WithObjects(nc).Build())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Record(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("want one batch directory, got %v (%v)", entries, err)
	}
	batchDir := filepath.Join(dir, entries[0].Name())
	batch, err := recording.ReadBatch(batchDir)
	if err != nil {
		t.Fatal(err)
	}
	if !batch.At.Equal(pricesAt) || batch.Region != "us-east-1" || !reflect.DeepEqual(batch.Zones, []string{"us-east-1a", "us-east-1b", "us-east-1c"}) ||
		batch.Pods != 12 || len(batch.Caveats) != 0 || !strings.Contains(batch.Replay, "--at 2026-11-01T14:20:00Z") {
		t.Errorf("batch.yaml: %+v", batch)
	}

	in, err := simulate.Load(simulate.Options{PodsFile: filepath.Join(batchDir, recording.PodsFile), NodePoolsFile: filepath.Join(batchDir, recording.NodePoolsFile),
		At: batch.At, Region: batch.Region, Zones: batch.Zones})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.DaemonSets) != 1 || len(in.NodePools) != 2 {
		t.Errorf("replay loads %d daemonsets and %d nodepools, want 1 and 2", len(in.DaemonSets), len(in.NodePools))
	}
	replayed, err := simulate.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	var recorded simulate.Report
	data, err := os.ReadFile(filepath.Join(batchDir, recording.PlanFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &recorded); err != nil {
		t.Fatal(err)
	}
	recorded.SolveSeconds, replayed.SolveSeconds = 0, 0
	if !reflect.DeepEqual(&recorded, replayed) {
		a, _ := json.MarshalIndent(recorded, "", " ")
		b, _ := json.MarshalIndent(replayed, "", " ")
		t.Errorf("replay differs from the recorded plan\nrecorded: %s\nreplayed: %s", a, b)
	}
}

// TestRecordCaveats: what the solve saw beyond the files is named.
func TestRecordCaveats(t *testing.T) {
	at := time.Date(2026, 11, 1, 14, 20, 0, 0, time.UTC)
	rec, nc := solveRecord(t, at)
	rec.Input.Nodes = []*scheduling.ExistingNode{{Name: "n1"}}
	for _, np := range rec.Input.NodePools {
		if np.Name == "gpu" {
			var amd []*scheduling.InstanceType
			for _, it := range np.InstanceTypes {
				if it.Labels[corev1.LabelArchStable] == "amd64" {
					it = &scheduling.InstanceType{Name: it.Name, Labels: it.Labels, Allocatable: it.Allocatable,
						Offerings: append([]scheduling.Offering(nil), it.Offerings...)}
					it.Offerings[0].Available = false
					amd = append(amd, it)
				}
			}
			np.InstanceTypes = amd
		}
	}
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r, err := recording.New(dir, "us-east-1", func() time.Time { return at }, fake.NewClientBuilder().WithScheme(scheme).WithObjects(nc).Build())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Record(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	batch, err := recording.ReadBatch(filepath.Join(dir, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(batch.Caveats, "\n")
	for _, want := range []string{"1 existing nodes", "nodepool gpu had", "nodepool gpu was offered amd64 types only"} {
		if !strings.Contains(all, want) {
			t.Errorf("caveats lack %q:\n%s", want, all)
		}
	}
}

func TestNewRefusesUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := recording.New(filepath.Join(file, "solves"), "us-east-1", time.Now, nil); err == nil {
		t.Error("a directory under a file: want an error")
	}
}
