package simulate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// writeList writes objects as a `kind: List`, as kubectl prints them.
func writeList(t *testing.T, path string, objs ...runtime.Object) {
	t.Helper()
	list := map[string]any{"apiVersion": "v1", "kind": "List", "items": objs}
	data, err := yaml.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// consolidationCluster: three on-demand m5 nodes of pool "default"; the
// large one is empty, the others hold a few small pods; one node that is
// not nodewright's holds a pod that must stay.
func consolidationCluster(t *testing.T) (nodesFile, podsFile string) {
	dir := t.TempDir()
	created := metav1.NewTime(testAt.Add(-24 * time.Hour))
	node := func(name, typ string, ours bool) *corev1.Node {
		labels := map[string]string{corev1.LabelInstanceTypeStable: typ, corev1.LabelTopologyZone: "us-east-1a", corev1.LabelHostname: name}
		if ours {
			labels[v1.NodePoolLabelKey] = "default"
			labels[v1.CapacityTypeLabelKey] = v1.CapacityTypeOnDemand
		}
		cpu := map[string]string{"m5.large": "1930m", "m5.xlarge": "3920m", "m5.2xlarge": "7910m"}[typ]
		return &corev1.Node{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, CreationTimestamp: created},
			Status: corev1.NodeStatus{
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("7Gi"), corev1.ResourcePods: resource.MustParse("29")},
				Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			},
		}
	}
	yes := true
	pod := func(name, nodeName, cpu string) *corev1.Pod {
		return &corev1.Pod{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: map[string]string{"app": "web"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "u1", Controller: &yes}}},
			Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "app", Image: "x",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("256Mi")}}}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning},
		}
	}
	nodesFile, podsFile = filepath.Join(dir, "nodes.yaml"), filepath.Join(dir, "pods.yaml")
	writeList(t, nodesFile, node("big", "m5.2xlarge", true), node("mid", "m5.xlarge", true), node("idle", "m5.large", true), node("system", "m5.large", false))
	writeList(t, podsFile, pod("web-1", "big", "250m"), pod("web-2", "big", "250m"), pod("web-3", "mid", "250m"), pod("dns", "system", "100m"))
	return nodesFile, podsFile
}

func TestConsolidate(t *testing.T) {
	nodes, pods := consolidationCluster(t)
	rep, err := Consolidate(Options{NodesFile: nodes, PodsFile: pods, At: testAt})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Nodes != 3 {
		t.Errorf("%d nodes of ours, want 3", rep.Nodes)
	}
	if len(rep.Actions) < 2 {
		t.Fatalf("actions %+v, want emptiness then consolidation", rep.Actions)
	}
	if a := rep.Actions[0]; a.Method != "Emptiness" || len(a.Nodes) != 1 || a.Nodes[0] != "idle" || !strings.HasPrefix(a.Message, "Empty: deleting m5.large (on-demand, $") {
		t.Errorf("first action %+v, want idle deleted as empty", a)
	}
	// Three 250m pods fit on the system node or one node far cheaper than
	// an m5.2xlarge and an m5.xlarge.
	if rep.SavedPerHour <= 0.3 || rep.PricePerHourAfter >= rep.PricePerHour || rep.NodesAfter > 1 {
		t.Errorf("saves $%.4f/h: $%.4f -> $%.4f, %d nodes left; actions %+v", rep.SavedPerHour, rep.PricePerHour, rep.PricePerHourAfter, rep.NodesAfter, rep.Actions)
	}
	total := 0.0
	for _, a := range rep.Actions {
		total += a.SavedPerHour
	}
	if d := total - rep.SavedPerHour; d > 1e-9 || d < -1e-9 {
		t.Errorf("actions save $%.4f/h in sum, the report says $%.4f/h", total, rep.SavedPerHour)
	}
	var buf bytes.Buffer
	if err := rep.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", buf.String())
	if !strings.Contains(buf.String(), "saves $") || !strings.Contains(buf.String(), "3 nodes, $") {
		t.Errorf("table:\n%s", buf.String())
	}

	t.Run("do-not-disrupt keeps a node", func(t *testing.T) {
		nodes, pods := consolidationCluster(t)
		data, _ := os.ReadFile(pods)
		data = bytes.Replace(data, []byte("name: web-3"), []byte("annotations:\n      nodewright.dev/do-not-disrupt: \"true\"\n    name: web-3"), 1)
		if err := os.WriteFile(pods, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rep, err := Consolidate(Options{NodesFile: nodes, PodsFile: pods, At: testAt})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range rep.Actions {
			for _, n := range a.Nodes {
				if n == "mid" {
					t.Errorf("mid was disrupted: %s", a.Message)
				}
			}
		}
		if len(rep.Blocked) != 1 || rep.Blocked[0].Node != "mid" {
			t.Errorf("blocked %+v", rep.Blocked)
		}
	})
	t.Run("needs nodes", func(t *testing.T) {
		if _, err := Consolidate(Options{PodsFile: pods, At: testAt}); err == nil {
			t.Error("no error without --nodes")
		}
	})
}

// TestConsolidateExample runs the README's example cluster: the empty
// m5.large goes first, and the result is cheaper with every pod placed.
func TestConsolidateExample(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "simulate", "cluster")
	r, err := Consolidate(Options{NodesFile: filepath.Join(dir, "nodes.yaml"), PodsFile: filepath.Join(dir, "pods.yaml"), At: testAt})
	if err != nil {
		t.Fatal(err)
	}
	if r.Nodes != 4 || len(r.Actions) == 0 {
		t.Fatalf("want actions on 4 nodes, got %d nodes, %d actions", r.Nodes, len(r.Actions))
	}
	if a := r.Actions[0]; a.Method != "Emptiness" || len(a.Nodes) != 1 || a.Nodes[0] != "ip-10-0-1-12" {
		t.Errorf("first action: want the empty m5.large deleted, got %+v", a)
	}
	if r.PricePerHourAfter >= r.PricePerHour || r.SavedPerHour <= 0 {
		t.Errorf("want a cheaper cluster, got $%.4f/h -> $%.4f/h", r.PricePerHour, r.PricePerHourAfter)
	}
	if len(r.Blocked) != 0 {
		t.Errorf("no node should be blocked, got %+v", r.Blocked)
	}
	// The example README shows this run's output at testAt: keep it true.
	var out bytes.Buffer
	if err := r.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line != "" && !strings.Contains(string(readme), line+"\n") {
			t.Errorf("examples/simulate/README.md lacks the line %q of:\n%s", line, out.String())
		}
	}
}
