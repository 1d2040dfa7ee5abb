package simulate

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/disruptionplan"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// maxConsolidationSteps bounds the passes of a consolidation simulation.
const maxConsolidationSteps = 1000

// ConsolidationReport is what consolidation would do to a running cluster,
// pass after pass until it finds nothing more.
type ConsolidationReport struct {
	Nodes             int                   `json:"nodes"`
	PricePerHour      float64               `json:"pricePerHour"`
	Actions           []ConsolidationAction `json:"actions"`
	NodesAfter        int                   `json:"nodesAfter"`
	PricePerHourAfter float64               `json:"pricePerHourAfter"`
	SavedPerHour      float64               `json:"savedPerHour"`
	// Blocked are the nodes the last pass could not consider, and why.
	Blocked []disruptionplan.Blocked `json:"blocked"`
}

// ConsolidationAction is one decision.
type ConsolidationAction struct {
	Method       disruptionplan.Method `json:"method"`
	Message      string                `json:"message"`
	Nodes        []string              `json:"nodes"`
	Replacements []string              `json:"replacements,omitempty"`
	SavedPerHour float64               `json:"savedPerHour"`
}

// Consolidate reads a running cluster (opts.NodesFile: Nodes and, if any,
// NodeClaims; opts.PodsFile: pods, bound by spec.nodeName) and simulates
// emptiness and consolidation passes to a fixed point, offline. Without
// NodeClaims, nodes labelled with a NodePool are taken as the pool's. The
// NodePools come from opts.NodePoolsFile, else one "default" pool that
// consolidates when empty or underutilized. opts.At is the time of the
// passes (consolidateAfter counts from the nodes' creation) and of the prices.
func Consolidate(opts Options) (*ConsolidationReport, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if opts.NodesFile == "" {
		return nil, fmt.Errorf("--consolidate needs --nodes")
	}
	var objs Objects
	for _, f := range []string{opts.NodesFile, opts.PodsFile, opts.NodePoolsFile} {
		if f == "" {
			continue
		}
		if err := ReadFile(f, &objs); err != nil {
			return nil, err
		}
	}
	if len(objs.Nodes) == 0 {
		return nil, fmt.Errorf("%s holds no nodes", opts.NodesFile)
	}
	pools := objs.NodePools
	if len(pools) == 0 {
		np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
		np.Spec.Disruption = v1.Disruption{ConsolidationPolicy: v1.ConsolidationPolicyWhenEmptyOrUnderutilized, ConsolidateAfter: "0s"}
		pools = []*v1.NodePool{np}
	}
	typesOf := instanceTypeSource(opts, objs)
	types := map[string][]*scheduling.InstanceType{}
	volumes := map[string]float64{}
	for _, np := range pools {
		t, err := typesOf(np)
		if err != nil {
			return nil, err
		}
		types[np.Name] = t
		if volumes[np.Name], err = nodeVolumeCost(opts, objs, np); err != nil {
			return nil, err
		}
	}
	snap, err := disruptionplan.NewSnapshot(disruptionplan.Objects{
		Now: opts.At, Nodes: objs.Nodes, NodeClaims: objs.NodeClaims, NodePools: pools, InstanceTypes: types, NodeVolumes: volumes,
		Pods: objs.Pods, PDBs: objs.PDBs, AdoptLabelledNodes: len(objs.NodeClaims) == 0,
	})
	if err != nil {
		return nil, err
	}
	snap.DaemonSets = objs.DaemonSets
	return consolidate(snap)
}

func consolidate(snap *disruptionplan.Snapshot) (*ConsolidationReport, error) {
	rep := &ConsolidationReport{Nodes: ours(snap), PricePerHour: snap.Price(), Actions: []ConsolidationAction{}}
	methods := []disruptionplan.Method{disruptionplan.MethodEmptiness, disruptionplan.MethodMultiNodeConsolidation, disruptionplan.MethodSingleNodeConsolidation}
	for step := 0; ; step++ {
		if step == maxConsolidationSteps {
			return nil, fmt.Errorf("consolidation found no fixed point in %d passes", step)
		}
		res, err := disruptionplan.Evaluate(snap, disruptionplan.Options{Methods: methods})
		if err != nil {
			return nil, err
		}
		rep.Blocked = res.Blocked
		if len(res.Decisions) == 0 {
			break
		}
		for i, d := range res.Decisions {
			a := ConsolidationAction{Method: d.Method, Message: d.Message, SavedPerHour: d.Savings}
			for _, c := range d.Candidates {
				a.Nodes = append(a.Nodes, c.Name)
			}
			name := func(j int) string { return fmt.Sprintf("replacement-%d-%d-%d", step+1, i, j) }
			for j := range d.Replacements {
				a.Replacements = append(a.Replacements, name(j))
			}
			if err := snap.Apply(d, name); err != nil {
				return nil, err
			}
			rep.Actions = append(rep.Actions, a)
		}
		// The next pass sees the cluster a while later, as the controller
		// would after carrying the decision out.
		snap.Now = snap.Now.Add(time.Minute)
	}
	rep.NodesAfter, rep.PricePerHourAfter = ours(snap), snap.Price()
	rep.SavedPerHour = rep.PricePerHour - rep.PricePerHourAfter
	return rep, nil
}

func ours(s *disruptionplan.Snapshot) int {
	n := 0
	for _, node := range s.Nodes {
		if node.NodeClaim != "" {
			n++
		}
	}
	return n
}

// WriteJSON prints the report as indented JSON.
func (r *ConsolidationReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable prints the report for people.
func (r *ConsolidationReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%d nodes, $%.4f/hour\n", r.Nodes, r.PricePerHour)
	if len(r.Actions) == 0 {
		fmt.Fprintln(w, "consolidation would do nothing")
	}
	for i, a := range r.Actions {
		fmt.Fprintf(w, "%3d. %s (saves $%.4f/h)\n", i+1, a.Message, a.SavedPerHour)
	}
	pct := 0.0
	if r.PricePerHour > 0 {
		pct = 100 * r.SavedPerHour / r.PricePerHour
	}
	fmt.Fprintf(w, "\nafter: %d nodes, $%.4f/hour; saves $%.4f/hour (%.0f%%)\n", r.NodesAfter, r.PricePerHourAfter, r.SavedPerHour, pct)
	if len(r.Blocked) > 0 {
		fmt.Fprintf(w, "\n%d nodes could not be considered:\n", len(r.Blocked))
		for _, b := range r.Blocked {
			fmt.Fprintf(w, "  %s: %s\n", b.Node, b.Reason)
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}
