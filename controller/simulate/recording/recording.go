// Package recording writes the controller's provisioning solves to disk as
// `nodewright simulate` input (`nodewright controller --record-solves DIR`),
// so that a live batch can be replayed offline and its plan compared.
//
// Each batch gets its own directory under DIR, named for the batch's start:
//
//	pods.yaml       the pending pods and the daemonsets, a List (simulate --pods)
//	nodepools.yaml  the NodePools and their EC2NodeClasses, a List (simulate --nodepools)
//	plan.json       the plan the controller chose, as `simulate --output json` prints it
//	batch.yaml      when, where, and what simulate cannot see (Batch)
//
// A directory appears whole or not at all: it is written under a temporary
// name and renamed.
package recording

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/simulate"
)

// The files of a batch directory.
const (
	PodsFile      = "pods.yaml"
	NodePoolsFile = "nodepools.yaml"
	PlanFile      = "plan.json"
	BatchFile     = "batch.yaml"
)

// Batch is batch.yaml: what `simulate` needs besides the two input files
// to price the batch as the controller did, and what it cannot replay.
type Batch struct {
	// Time is when the batch began.
	Time time.Time `json:"time"`
	// At is when the prices the solve used were read from AWS: the
	// simulate --at that replays the batch (spot prices change on the hour,
	// and the controller caches prices for minutes).
	At     time.Time `json:"at"`
	Region string    `json:"region"`
	// Zones are the zones of the solve's offerings: simulate --zones.
	Zones        []string `json:"zones"`
	Pods         int      `json:"pods"`
	NodeClaims   int      `json:"nodeClaims"`
	PricePerHour float64  `json:"pricePerHour"`
	// Replay is the command that replays the batch.
	Replay string `json:"replay"`
	// Caveats name what the solve saw that simulate does not, so a replay
	// may differ; none means the replay sees the same input.
	Caveats []string `json:"caveats,omitempty"`
}

// Recorder writes solves under one directory.
type Recorder struct {
	dir      string
	region   string
	pricesAt func() time.Time
	reader   client.Reader
	seq      atomic.Int64
}

// New returns a Recorder writing under dir, which it creates. pricesAt
// says when the cloud provider read the prices the solves see; reader
// reads the NodePools' EC2NodeClasses.
func New(dir, region string, pricesAt func() time.Time, reader client.Reader) (*Recorder, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the solve recording directory: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".probe-")
	if err != nil {
		return nil, fmt.Errorf("solve recording directory %s is not writable: %w", dir, err)
	}
	probe.Close()
	_ = os.Remove(probe.Name())
	return &Recorder{dir: dir, region: region, pricesAt: pricesAt, reader: reader}, nil
}

// Record writes one solve; it is provisioning.Options.RecordSolve.
func (r *Recorder) Record(ctx context.Context, rec *provisioning.SolveRecord) error {
	name := fmt.Sprintf("%s-%04d", rec.Began.UTC().Format("20060102T150405.000Z"), r.seq.Add(1))
	tmp, err := os.MkdirTemp(r.dir, ".tmp-"+name+"-")
	if err != nil {
		return fmt.Errorf("recording solve %s: %w", name, err)
	}
	final := filepath.Join(r.dir, name)
	if err := r.write(ctx, tmp, final, rec); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("recording solve %s: %w", name, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("recording solve %s: %w", name, err)
	}
	return nil
}

func (r *Recorder) write(ctx context.Context, dir, final string, rec *provisioning.SolveRecord) error {
	in := rec.Input
	pods := make([]any, 0, len(in.Pods)+len(in.DaemonSets))
	for _, p := range in.Pods {
		p = p.DeepCopy()
		p.APIVersion, p.Kind, p.ManagedFields = "v1", "Pod", nil
		pods = append(pods, p)
	}
	for i, tmpl := range in.DaemonSets {
		pods = append(pods, daemonSet(i, tmpl))
	}
	pools, classes, err := r.nodePools(ctx, rec)
	if err != nil {
		return err
	}
	plan := simulate.NewReport(rec.Result, rec.SolveTime)
	batch := Batch{Time: rec.Began.UTC(), At: r.pricesAt().UTC(), Region: r.region, Zones: zones(in),
		Pods: len(in.Pods), NodeClaims: len(plan.NodeClaims), PricePerHour: plan.TotalPricePerHour, Caveats: caveats(in, rec.Result)}
	batch.Replay = fmt.Sprintf("nodewright simulate --at %s --region %s --zones %s --pods %s --nodepools %s",
		batch.At.Format(time.RFC3339Nano), batch.Region, strings.Join(batch.Zones, ","),
		filepath.Join(final, PodsFile), filepath.Join(final, NodePoolsFile))
	planJSON, err := os.Create(filepath.Join(dir, PlanFile))
	if err != nil {
		return err
	}
	if err := plan.WriteJSON(planJSON); err != nil {
		planJSON.Close()
		return err
	}
	if err := planJSON.Close(); err != nil {
		return err
	}
	for file, v := range map[string]any{PodsFile: list(pods), NodePoolsFile: list(append(pools, classes...)), BatchFile: batch} {
		data, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", file, err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// nodePools are the solve's NodePools, their status set to the usage the
// solve counted against their limits (fresher than the status the API
// holds; simulate reads limits' usage from status), and their node classes.
func (r *Recorder) nodePools(ctx context.Context, rec *provisioning.SolveRecord) (pools, classes []any, err error) {
	seen := map[string]bool{}
	for i, np := range rec.Snapshot.NodePools {
		np = np.DeepCopy()
		np.APIVersion, np.Kind, np.ManagedFields = v1.SchemeGroupVersion.String(), "NodePool", nil
		if i < len(rec.Input.NodePools) && rec.Input.NodePools[i].Name == np.Name {
			used := rec.Input.NodePools[i].InUse.DeepCopy()
			nodes := used["nodes"]
			delete(used, "nodes")
			np.Status.Resources, np.Status.Nodes = used, nodes.Value()
		}
		pools = append(pools, np)
		name, ok := np.NodeClassName()
		if !ok || seen[name] {
			continue
		}
		seen[name] = true
		nc := &v1.EC2NodeClass{}
		if err := r.reader.Get(ctx, client.ObjectKey{Name: name}, nc); err != nil {
			return nil, nil, fmt.Errorf("reading ec2nodeclass %s of nodepool %s: %w", name, np.Name, err)
		}
		nc.APIVersion, nc.Kind, nc.ManagedFields = v1.SchemeGroupVersion.String(), "EC2NodeClass", nil
		classes = append(classes, nc)
	}
	return pools, classes, nil
}

// daemonSet wraps a daemonset pod template, as the snapshot keeps it, in a
// DaemonSet simulate reads. The name is made up: the solve never saw one.
func daemonSet(i int, tmpl *corev1.Pod) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("daemonset-%d", i+1), Namespace: tmpl.Namespace},
	}
	ds.Spec.Template.ObjectMeta = *tmpl.ObjectMeta.DeepCopy()
	ds.Spec.Template.ManagedFields = nil
	ds.Spec.Template.Spec = *tmpl.Spec.DeepCopy()
	return ds
}

func list(items []any) map[string]any {
	if items == nil {
		items = []any{}
	}
	return map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
}

// zones are every zone an offering of the solve was in.
func zones(in scheduling.Input) []string {
	set := map[string]bool{}
	for _, np := range in.NodePools {
		for z := range poolZones(np) {
			set[z] = true
		}
	}
	return sortedKeys(set)
}

func poolZones(np *scheduling.NodePool) map[string]bool {
	set := map[string]bool{}
	for _, it := range np.InstanceTypes {
		for _, o := range it.Offerings {
			set[o.Zone] = true
		}
	}
	return set
}

// caveats say what of the solve's input simulate does not take, where it
// could change the plan: simulate starts from an empty cluster and offers
// every catalog type in every zone of --zones, in every architecture, all
// available. Existing nodes that took no pod change nothing for pods that
// have no topology spread or (anti-)affinity.
func caveats(in scheduling.Input, res *scheduling.Result) []string {
	var out []string
	placed := 0
	for _, e := range res.ExistingNodes {
		placed += len(e.Pods)
	}
	if placed > 0 {
		out = append(out, fmt.Sprintf("the solve placed %d pods on existing nodes or NodeClaims in flight; simulate starts from an empty cluster and launches for them", placed))
	}
	if n := len(in.Nodes) + len(in.PodsElsewhere); n > 0 && anyRelational(in.Pods) {
		out = append(out, fmt.Sprintf("%d existing nodes and %d pods on nodes that take no new pods counted for topology spread and affinity; simulate does not see them", len(in.Nodes), len(in.PodsElsewhere)))
	}
	if n := len(in.VolumeRequirements); n > 0 {
		out = append(out, fmt.Sprintf("%d bound volumes constrained pods' zones; simulate does not see them", n))
	}
	all := zones(in)
	for _, np := range in.NodePools {
		unavailable, arches := 0, map[string]bool{}
		for _, it := range np.InstanceTypes {
			arches[it.Labels[corev1.LabelArchStable]] = true
			for _, o := range it.Offerings {
				if !o.Available {
					unavailable++
				}
			}
		}
		if unavailable > 0 {
			out = append(out, fmt.Sprintf("nodepool %s had %d offerings marked unavailable after InsufficientInstanceCapacity; simulate offers them", np.Name, unavailable))
		}
		if z := sortedKeys(poolZones(np)); len(z) != len(all) {
			out = append(out, fmt.Sprintf("nodepool %s was offered zones %v only (its EC2NodeClass's subnets); simulate offers --zones %v to every pool", np.Name, z, all))
		}
		if a := sortedKeys(arches); len(a) == 1 {
			out = append(out, fmt.Sprintf("nodepool %s was offered %s types only (its EC2NodeClass's AMIs); simulate offers every architecture", np.Name, a[0]))
		}
	}
	return out
}

// anyRelational reports whether a pod's placement depends on other pods.
func anyRelational(pods []*corev1.Pod) bool {
	for _, p := range pods {
		a := p.Spec.Affinity
		if len(p.Spec.TopologySpreadConstraints) > 0 || a != nil && (a.PodAffinity != nil || a.PodAntiAffinity != nil) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ReadBatch reads a batch directory's batch.yaml.
func ReadBatch(dir string) (*Batch, error) {
	data, err := os.ReadFile(filepath.Join(dir, BatchFile))
	if err != nil {
		return nil, err
	}
	var b Batch
	if err := yaml.UnmarshalStrict(data, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, BatchFile), err)
	}
	return &b, nil
}
