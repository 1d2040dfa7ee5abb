package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/simulate"
	"github.com/nodewright/nodewright/controller/simulate/recording"
	"github.com/nodewright/nodewright/test/harness"
	"github.com/nodewright/nodewright/test/localcloud"
)

// TestSimulateReplaysLiveBatch runs the seed walkthrough (10 pods of 1 CPU
// and 1.5Gi; a NodePool of c/m/r, generation > 2, spot and on-demand, both
// architectures) with the controller recording its solves, replays the
// recorded batch with the built `nodewright simulate --at <price time>`,
// and wants the plan the controller chose: the same number of nodes, the
// same instance type, zone and capacity type per node, the same $/h. The
// cluster must get as many nodes, of the same capacity types.
func TestSimulateReplaysLiveBatch(t *testing.T) {
	solves := filepath.Join(t.TempDir(), "solves")
	ctrlEnv := []string{"RECORD_SOLVES=" + solves, "BATCH_IDLE_DURATION=3s", "BATCH_MAX_DURATION=10s"}
	e := newEnv(t, defaultNodePool, ctrlEnv...)
	ctx := context.Background()
	e.eventually("EC2NodeClass Ready", 30*time.Second, func(ctx context.Context) (bool, error) {
		var nc v1.EC2NodeClass
		if err := e.kube.Get(ctx, client.ObjectKey{Name: "default"}, &nc); err != nil {
			return false, err
		}
		return meta.IsStatusConditionTrue(nc.Status.Conditions, "Ready") && len(nc.Status.AMIs) >= 2, nil
	})
	// The controller is stopped while the pods are created, so the first
	// batch it solves after it starts again holds all ten, however slowly
	// a busy machine creates them.
	e.ctrl.Stop(syscall.SIGTERM)
	// Until the API server's admission sees the default service account
	// (kube-controller-manager makes it), pods are refused.
	tmpl := inflate("inflate", 10, "1", "1.5Gi").Spec.Template
	for i := range 10 {
		pod := &corev1.Pod{ObjectMeta: *tmpl.ObjectMeta.DeepCopy(), Spec: *tmpl.Spec.DeepCopy()}
		pod.Name, pod.Namespace = fmt.Sprintf("inflate-%d", i), "default"
		e.eventually("creating pod "+pod.Name, 30*time.Second, func(ctx context.Context) (bool, error) {
			err := e.kube.Create(ctx, pod.DeepCopy())
			return err == nil, err
		}, 100*time.Millisecond)
	}

	e.ctrl = harness.StartController(t, e.cloud, ctrlEnv...)

	var batchDir string
	e.eventually("a recorded batch", 30*time.Second, func(context.Context) (bool, error) {
		entries, err := os.ReadDir(solves)
		if err != nil {
			return false, err
		}
		for _, en := range entries {
			if !strings.HasPrefix(en.Name(), ".") {
				batchDir = filepath.Join(solves, en.Name())
				return true, nil
			}
		}
		return false, nil
	})
	batch, err := recording.ReadBatch(batchDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("batch: %+v", batch)
	if batch.Pods != 10 || len(batch.Caveats) != 0 {
		t.Fatalf("the first batch solved %d pods with caveats %q; want the 10 pods and nothing simulate cannot see", batch.Pods, batch.Caveats)
	}
	recorded := readPlan(t, filepath.Join(batchDir, recording.PlanFile))
	placed := 0
	for _, n := range recorded.NodeClaims {
		placed += len(n.Pods)
	}
	if placed != 10 || len(recorded.Unschedulable) != 0 {
		t.Fatalf("the controller's plan places %d of 10 pods, %d unschedulable", placed, len(recorded.Unschedulable))
	}

	bin, err := localcloud.DefaultBinDir()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "nodewright"), "simulate", "--at", batch.At.Format(time.RFC3339Nano),
		"--region", batch.Region, "--zones", strings.Join(batch.Zones, ","), "--pods", filepath.Join(batchDir, recording.PodsFile),
		"--nodepools", filepath.Join(batchDir, recording.NodePoolsFile), "--output", "json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.String())
	}
	var replayed simulate.Report
	if err := json.Unmarshal(stdout.Bytes(), &replayed); err != nil {
		t.Fatalf("simulate's JSON: %v\n%s", err, stdout.String())
	}
	want, got := nodeKeys(recorded.NodeClaims), nodeKeys(replayed.NodeClaims)
	t.Logf("controller: %d nodes, $%.4f/h: %v", len(want), recorded.TotalPricePerHour, want)
	t.Logf("simulate --at %s: %d nodes, $%.4f/h: %v", batch.At.Format(time.RFC3339), len(got), replayed.TotalPricePerHour, got)
	if strings.Join(want, " ") != strings.Join(got, " ") || math.Abs(recorded.TotalPricePerHour-replayed.TotalPricePerHour) > 1e-9 {
		t.Errorf("simulate's plan differs from the controller's")
	}

	// The cluster gets the plan's nodes: as many, of the same capacity
	// types. Which pool each launches in is CreateFleet's choice: with
	// price-capacity-optimized spot it may take a deeper pool than the
	// cheapest the plan prices (the emulator models that, as AWS does).
	e.eventually("every planned NodeClaim launched", 30*time.Second, func(ctx context.Context) (bool, error) {
		launched := 0
		for _, nc := range e.nodeClaims(ctx) {
			if nc.Status.ProviderID != "" {
				launched++
			}
		}
		return launched >= len(want), nil
	})
	var cluster, clusterCT, planCT []string
	for _, nc := range e.nodeClaims(ctx) {
		ct := nc.Labels[v1.CapacityTypeLabelKey]
		cluster = append(cluster, fmt.Sprintf("%s/%s/%s", nc.Labels[corev1.LabelInstanceTypeStable], nc.Labels[corev1.LabelTopologyZone], ct))
		clusterCT = append(clusterCT, ct)
	}
	for _, n := range recorded.NodeClaims {
		planCT = append(planCT, n.CapacityType)
	}
	sort.Strings(cluster)
	sort.Strings(clusterCT)
	sort.Strings(planCT)
	t.Logf("cluster: %d nodes: %v", len(cluster), cluster)
	if strings.Join(clusterCT, " ") != strings.Join(planCT, " ") {
		t.Errorf("the cluster launched %v, the plan was %v", cluster, want)
	}
}

func readPlan(t *testing.T, path string) *simulate.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r simulate.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &r
}

// nodeKeys are the nodes as a sorted multiset of type/zone/capacity type.
func nodeKeys(nodes []simulate.NodeClaimReport) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = fmt.Sprintf("%s/%s/%s", n.InstanceType, n.Zone, n.CapacityType)
	}
	sort.Strings(out)
	return out
}
