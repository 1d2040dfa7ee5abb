package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/interruption"
	"github.com/nodewright/nodewright/controller/utils/index"
	"github.com/nodewright/nodewright/test/harness"
	"github.com/nodewright/nodewright/test/kubetest"
)

const spotNodePool = `
apiVersion: nodewright.dev/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {group: nodewright.dev, kind: EC2NodeClass, name: default}
      requirements:
      - {key: nodewright.dev/capacity-type, operator: In, values: [spot]}
      - {key: nodewright.dev/instance-category, operator: In, values: [c, m, r]}
      - {key: nodewright.dev/instance-generation, operator: Gt, values: ["2"]}
  disruption:
    consolidationPolicy: WhenEmpty
    consolidateAfter: 10m
`

const queueName = "nodewright-interruption"

// interruptionEnv is an env whose controller reads an interruption queue
// made by the Terraform provider's nodewright_interruption_queue.
type interruptionEnv struct {
	*env
	sqs *sqs.Client
	url string
}

func newInterruptionEnv(t *testing.T, policy string) *interruptionEnv {
	t.Setenv("INTERRUPTION_QUEUE", queueName)
	t.Setenv("REBALANCE_POLICY", policy)
	e := newEnv(t, spotNodePool)
	ie := &interruptionEnv{env: e, sqs: sqs.NewFromConfig(e.cloud.AWSConfig())}
	ie.url = harness.InterruptionQueue(t, e.cloud, queueName)
	e.eventually("controller reads the queue", time.Minute, func(context.Context) (bool, error) {
		return len(e.ctrl.Entries("reading interruption queue")) > 0, nil
	})
	return ie
}

func (e *env) deploy(name string, replicas int32, cpu string, maxUnavailable int) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.kube.Create(ctx, inflate(name, replicas, cpu, "256Mi")); err != nil {
		e.t.Fatal(err)
	}
	if maxUnavailable > 0 {
		pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(int32(maxUnavailable))),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}}}
		if err := e.kube.Create(ctx, pdb); err != nil {
			e.t.Fatal(err)
		}
	}
	e.eventually(fmt.Sprintf("%d %s pods running", replicas, name), 90*time.Second, func(ctx context.Context) (bool, error) {
		running, _ := e.runningPods(ctx, name)
		return running == int(replicas), nil
	})
}

func (e *env) pods(ctx context.Context, app string) []corev1.Pod {
	var pods corev1.PodList
	if err := e.kube.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels{"app": app}); err != nil {
		e.t.Fatal(err)
	}
	return pods.Items
}

// busiestNode is the node running most of app's pods, and its claim.
func (e *env) busiestNode(ctx context.Context, app string) (string, *v1.NodeClaim) {
	e.t.Helper()
	count := map[string]int{}
	for _, p := range e.pods(ctx, app) {
		count[p.Spec.NodeName]++
	}
	best := ""
	for n, c := range count {
		if n != "" && (best == "" || c > count[best]) {
			best = n
		}
	}
	return best, e.claimOfNode(ctx, best)
}

func (e *env) claimOfNode(ctx context.Context, node string) *v1.NodeClaim {
	for _, nc := range e.nodeClaims(ctx) {
		if nc.Status.NodeName == node {
			return &nc
		}
	}
	e.t.Fatalf("no nodeclaim for node %s", node)
	return nil
}

// movedOff reports whether every one of app's want pods is Running and
// Ready on a node other than node.
func (e *env) movedOff(ctx context.Context, app, node string, want int) bool {
	n := 0
	for _, p := range e.pods(ctx, app) {
		if p.Spec.NodeName != node && p.DeletionTimestamp.IsZero() && p.Status.Phase == corev1.PodRunning && podReady(&p) {
			n++
		}
	}
	return n >= want
}

func (e *env) instanceState(ctx context.Context, id string) string {
	out, err := e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) == 0 || len(out.Reservations[0].Instances) == 0 {
		return "gone"
	}
	return string(out.Reservations[0].Instances[0].State.Name)
}

func (e *env) inject(route, instanceID string, extra map[string]any) {
	e.t.Helper()
	body := map[string]any{"instanceId": instanceID}
	for k, v := range extra {
		body[k] = v
	}
	if _, err := e.cloud.Inject(context.Background(), route, body); err != nil {
		e.t.Fatal(err)
	}
}

// replacementsFor lists NodeClaims launched to replace node.
func (e *env) replacementsFor(ctx context.Context, node string) []string {
	var out []string
	for _, nc := range e.nodeClaims(ctx) {
		for _, n := range strings.Split(nc.Annotations[v1.ReplacementForAnnotationKey], ",") {
			if n == node {
				out = append(out, nc.Name)
			}
		}
	}
	return out
}

func (e *env) claimGone(ctx context.Context, name string) bool {
	var nc v1.NodeClaim
	err := e.kube.Get(ctx, client.ObjectKey{Name: name}, &nc)
	return client.IgnoreNotFound(err) == nil && err != nil
}

func TestInterruption(t *testing.T) {
	ie := newInterruptionEnv(t, "Replace")
	e := ie.env
	ctx := context.Background()

	t.Run("spot warning: replacement first, pods moved within the PDB, before termination", func(t *testing.T) {
		e.deploy("spot", 6, "500m", 1)
		node, nc := e.busiestNode(ctx, "spot")
		id := index.InstanceID(nc.Status.ProviderID)
		pool := [3]string{nc.Labels[corev1.LabelInstanceTypeStable], nc.Labels[corev1.LabelTopologyZone], nc.Labels[v1.CapacityTypeLabelKey]}
		start := time.Now()
		e.inject("faults/spot-interruption", id, map[string]any{"leadSeconds": 120})
		maxUnavailable := 0
		e.eventually("all 6 pods running off the interrupted node", 110*time.Second, func(ctx context.Context) (bool, error) {
			running, _ := e.runningPods(ctx, "spot")
			maxUnavailable = max(maxUnavailable, 6-running)
			return e.movedOff(ctx, "spot", node, 6), nil
		}, 100*time.Millisecond)
		took := time.Since(start)
		// The claim's own deletion terminates the instance once drained;
		// AWS would only at the end of the 2-minute warning.
		if took >= 2*time.Minute {
			t.Errorf("pods moved %s after the warning, after AWS took the instance", took)
		}
		t.Logf("warning to 6 pods running elsewhere: %s (max unavailable %d)", took.Round(100*time.Millisecond), maxUnavailable)
		if maxUnavailable > 1 {
			t.Errorf("%d pods unavailable at once; the PDB allows 1", maxUnavailable)
		}
		repl := e.replacementsFor(ctx, node)
		if len(repl) != 1 {
			t.Fatalf("replacements for %s: %v, want 1", node, repl)
		}
		var r v1.NodeClaim
		if err := e.kube.Get(ctx, client.ObjectKey{Name: repl[0]}, &r); err != nil {
			t.Fatal(err)
		}
		got := [3]string{r.Labels[corev1.LabelInstanceTypeStable], r.Labels[corev1.LabelTopologyZone], r.Labels[v1.CapacityTypeLabelKey]}
		if got == pool {
			t.Errorf("replacement launched into the interrupted pool %v", pool)
		}
		var rn corev1.Node
		if err := e.kube.Get(ctx, client.ObjectKey{Name: r.Status.NodeName}, &rn); err != nil {
			t.Fatalf("replacement node: %v", err)
		}
		readyNode := false
		for _, c := range rn.Status.Conditions {
			readyNode = readyNode || (c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue)
		}
		if !readyNode {
			t.Errorf("replacement node %s is not Ready", rn.Name)
		}
		e.eventually("interrupted nodeclaim gone", 60*time.Second, func(ctx context.Context) (bool, error) {
			return e.claimGone(ctx, nc.Name), nil
		})
	})

	t.Run("duplicate warning: one replacement", func(t *testing.T) {
		e.deploy("dup", 3, "1500m", 0)
		node, nc := e.busiestNode(ctx, "dup")
		id := index.InstanceID(nc.Status.ProviderID)
		e.inject("faults/spot-interruption", id, nil)
		e.inject("faults/spot-interruption", id, nil)
		e.eventually("dup pods running elsewhere", 110*time.Second, func(ctx context.Context) (bool, error) {
			return e.movedOff(ctx, "dup", node, 3), nil
		})
		time.Sleep(3 * time.Second) // room for a wrong second replacement
		if repl := e.replacementsFor(ctx, node); len(repl) > 1 {
			t.Errorf("replacements for %s: %v, want at most 1", node, repl)
		}
		handled := 0
		for _, l := range e.ctrl.Entries("replacing interrupted node") {
			if l["nodeclaim"] == nc.Name {
				handled++
			}
		}
		if handled != 1 {
			t.Errorf("nodeclaim %s handled %d times, want 1", nc.Name, handled)
		}
	})

	t.Run("malformed message: deleted, counted, controller healthy", func(t *testing.T) {
		before := len(e.ctrl.Entries("dropping malformed interruption message"))
		if _, err := ie.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(ie.url), MessageBody: aws.String(`{"source":"aws.ec2","detail-type":`)}); err != nil {
			t.Fatal(err)
		}
		if _, err := ie.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(ie.url), MessageBody: aws.String(`{"source":"aws.s3","detail-type":"Object Created","time":"2026-01-01T00:00:00Z","detail":{}}`)}); err != nil {
			t.Fatal(err)
		}
		e.eventually("both logged as dropped", 45*time.Second, func(context.Context) (bool, error) {
			return len(e.ctrl.Entries("dropping malformed interruption message")) == before+2, nil
		})
		e.eventually("queue empty", 30*time.Second, func(ctx context.Context) (bool, error) {
			out, err := ie.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(ie.url),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
			if err != nil {
				return false, err
			}
			return out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0", nil
		})
		if e.ctrl.Exited() {
			t.Fatalf("controller exited: %s", e.ctrl.Tail(20))
		}
	})

	t.Run("instance lost: nodeclaim deleted at once, pods rescheduled", func(t *testing.T) {
		e.deploy("loss", 2, "1500m", 0)
		node, nc := e.busiestNode(ctx, "loss")
		start := time.Now()
		e.inject("faults/instance-loss", index.InstanceID(nc.Status.ProviderID), nil)
		e.eventually("nodeclaim of the lost instance deleted", 15*time.Second, func(ctx context.Context) (bool, error) {
			var got v1.NodeClaim
			err := e.kube.Get(ctx, client.ObjectKey{Name: nc.Name}, &got)
			return client.IgnoreNotFound(err) == nil && (err != nil || !got.DeletionTimestamp.IsZero()), nil
		})
		t.Logf("nodeclaim deleted %s after the loss", time.Since(start).Round(100*time.Millisecond))
		e.eventually("loss pods running on new capacity", 90*time.Second, func(ctx context.Context) (bool, error) {
			return e.movedOff(ctx, "loss", node, 2), nil
		})
	})

	t.Run("rebalance under Replace: replaced within budget", func(t *testing.T) {
		setBudget := func(nodes string) {
			// nodewright writes the pool's status.
			np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
			if err := kubetest.Update(ctx, e.kube, np, func(np *v1.NodePool) { np.Spec.Disruption.Budgets = []v1.Budget{{Nodes: nodes}} }); err != nil {
				t.Fatal(err)
			}
		}
		// A zero budget holds the replacement; the message waits in the queue.
		// It is set before the workload so that the controller's cache has
		// it by the time the message arrives: set just before the inject,
		// the message could beat the NodePool update to the cache.
		setBudget("0")
		e.deploy("rebal", 2, "1500m", 0)
		node, nc := e.busiestNode(ctx, "rebal")
		e.inject("faults/rebalance", index.InstanceID(nc.Status.ProviderID), nil)
		e.eventually("rebalance held by the budget", 30*time.Second, func(context.Context) (bool, error) {
			for _, l := range e.ctrl.Entries("interruption message not handled; it will be delivered again") {
				if strings.Contains(fmt.Sprint(l["error"]), "budget") {
					return true, nil
				}
			}
			return false, nil
		})
		var held v1.NodeClaim
		if err := e.kube.Get(ctx, client.ObjectKey{Name: nc.Name}, &held); err != nil || !held.DeletionTimestamp.IsZero() || held.Annotations[interruption.KindAnnotationKey] != "" {
			t.Fatalf("nodeclaim acted on despite a zero budget (err %v)", err)
		}
		// Budget back: the redelivered message replaces the node.
		setBudget("10%")
		e.eventually("rebalanced node replaced and its claim gone", 120*time.Second, func(ctx context.Context) (bool, error) {
			return e.movedOff(ctx, "rebal", node, 2) && e.claimGone(ctx, nc.Name), nil
		})
		if n := len(e.ctrl.Entries("replacing interrupted node")); n == 0 {
			t.Error("no replacement logged for the rebalance")
		}
	})

	t.Run("scheduled change: replaced and drained before its start", func(t *testing.T) {
		e.deploy("health", 2, "1500m", 0)
		node, nc := e.busiestNode(ctx, "health")
		start := time.Now()
		e.inject("faults/scheduled-change", index.InstanceID(nc.Status.ProviderID), map[string]any{"startInSeconds": 60})
		e.eventually("pods moved and claim gone before the change starts", 60*time.Second, func(ctx context.Context) (bool, error) {
			return e.movedOff(ctx, "health", node, 2) && e.claimGone(ctx, nc.Name), nil
		})
		t.Logf("scheduled change handled in %s (start in 60s)", time.Since(start).Round(100*time.Millisecond))
	})

	t.Run("capacity reservation interruption: replaced like spot", func(t *testing.T) {
		e.deploy("cr", 2, "1500m", 0)
		node, nc := e.busiestNode(ctx, "cr")
		e.inject("faults/capacity-reservation-interruption", index.InstanceID(nc.Status.ProviderID), nil)
		e.eventually("pods moved and claim gone", 110*time.Second, func(ctx context.Context) (bool, error) {
			return e.movedOff(ctx, "cr", node, 2) && e.claimGone(ctx, nc.Name), nil
		})
		if len(e.replacementsFor(ctx, node)) > 1 {
			t.Errorf("more than one replacement for %s", node)
		}
	})

	t.Run("rescheduling measured", func(t *testing.T) {
		e.eventually("warning-to-rescheduled observed", 30*time.Second, func(context.Context) (bool, error) {
			return len(e.ctrl.Entries("interrupted pods running elsewhere")) > 0, nil
		})
		for _, l := range e.ctrl.Entries("interrupted pods running elsewhere") {
			t.Logf("node %v: pods running elsewhere %v after the warning", l["node"], l["after"])
		}
	})

	t.Run("rebalance under Cordon: only cordoned", func(t *testing.T) {
		e.ctrl.Stop(syscall.SIGTERM)
		t.Setenv("REBALANCE_POLICY", "Cordon")
		e.ctrl = harness.StartController(t, e.cloud)
		e.eventually("restarted controller reads the queue", 90*time.Second, func(context.Context) (bool, error) {
			return len(e.ctrl.Entries("reading interruption queue")) > 0, nil
		})
		node, nc := e.busiestNode(ctx, "spot")
		e.inject("faults/rebalance", index.InstanceID(nc.Status.ProviderID), nil)
		e.eventually("node cordoned", 45*time.Second, func(ctx context.Context) (bool, error) {
			var n corev1.Node
			if err := e.kube.Get(ctx, client.ObjectKey{Name: node}, &n); err != nil {
				return false, err
			}
			return n.Spec.Unschedulable, nil
		})
		time.Sleep(5 * time.Second)
		var got v1.NodeClaim
		if err := e.kube.Get(ctx, client.ObjectKey{Name: nc.Name}, &got); err != nil || !got.DeletionTimestamp.IsZero() {
			t.Errorf("cordoned nodeclaim deleted (err %v)", err)
		}
		if got.Annotations[interruption.DeleteByAnnotationKey] != "" {
			t.Errorf("cordoned claim scheduled for deletion")
		}
		if repl := e.replacementsFor(ctx, node); len(repl) != 0 {
			t.Errorf("cordon launched replacements %v", repl)
		}
	})
}

// TestInterruptionBurst interrupts 50 spot nodes at once.
func TestInterruptionBurst(t *testing.T) {
	const n = 50
	ie := newInterruptionEnv(t, "Replace")
	e := ie.env
	ctx := context.Background()
	// One anchor pod per node (hostname anti-affinity) makes n small nodes;
	// the workload spreads over them; then the anchors go, leaving one
	// workload pod per node.
	anchor := inflate("anchor", n, "10m", "16Mi")
	anchor.Spec.Template.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{TopologyKey: corev1.LabelHostname,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "anchor"}}}}}}
	if err := e.kube.Create(ctx, anchor); err != nil {
		t.Fatal(err)
	}
	e.eventually("anchors running on their own nodes", 4*time.Minute, func(ctx context.Context) (bool, error) {
		running, _ := e.runningPods(ctx, "anchor")
		return running == n, nil
	}, time.Second)
	// No spread constraint: kube-scheduler's scoring spreads them, and the
	// replacement may pack them.
	work := inflate("work", n, "100m", "128Mi")
	if err := e.kube.Create(ctx, work); err != nil {
		t.Fatal(err)
	}
	e.eventually("work running", 3*time.Minute, func(ctx context.Context) (bool, error) {
		running, _ := e.runningPods(ctx, "work")
		return running == n, nil
	}, time.Second)
	e.scale("anchor", 0)
	e.eventually("anchors gone", time.Minute, func(ctx context.Context) (bool, error) {
		return len(e.pods(ctx, "anchor")) == 0, nil
	})
	// Interrupt every node.
	nodes := map[string]string{} // node -> instance
	for _, nc := range e.nodeClaims(ctx) {
		nodes[nc.Status.NodeName] = index.InstanceID(nc.Status.ProviderID)
	}
	if len(nodes) != n {
		t.Fatalf("%d nodes, want %d", len(nodes), n)
	}
	fleetsBefore := len(e.ctrl.Entries("fleet returned instance")) + len(e.ctrl.Entries("pool out of capacity"))
	start := time.Now()
	for _, id := range nodes {
		e.inject("faults/spot-interruption", id, map[string]any{"leadSeconds": 120})
	}
	t.Logf("interrupted %d nodes in %s", len(nodes), time.Since(start).Round(time.Millisecond))
	// Per pod: time from the warning until a Running replacement pod exists
	// elsewhere, approximated per node by when the number of Ready work
	// pods off interrupted nodes grows.
	var times []time.Duration
	seen := map[string]bool{}
	e.eventually("every work pod running off the interrupted nodes", 120*time.Second, func(ctx context.Context) (bool, error) {
		for _, p := range e.pods(ctx, "work") {
			if _, bad := nodes[p.Spec.NodeName]; bad || seen[p.Name] || p.Status.Phase != corev1.PodRunning || !podReady(&p) || !p.DeletionTimestamp.IsZero() {
				continue
			}
			seen[p.Name] = true
			times = append(times, time.Since(start))
		}
		return len(times) >= n, nil
	}, 200*time.Millisecond)
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	p50, p95 := times[len(times)/2], times[len(times)*95/100]
	fleets := len(e.ctrl.Entries("fleet returned instance")) + len(e.ctrl.Entries("pool out of capacity")) - fleetsBefore
	t.Logf("burst of %d: warning to pod Running elsewhere p50 %s p95 %s max %s; %d CreateFleet calls; %d replacement batches",
		len(nodes), p50.Round(100*time.Millisecond), p95.Round(100*time.Millisecond), times[len(times)-1].Round(100*time.Millisecond),
		fleets, len(e.ctrl.Entries("replacing interrupted nodes")))
	for _, msg := range []string{"created replacement nodeclaim", "created nodeclaim", "replaced capacity", "pool out of capacity"} {
		t.Logf("%q: %d lines", msg, len(e.ctrl.Entries(msg)))
	}
	if times[len(times)-1] > 120*time.Second {
		t.Errorf("a pod ran elsewhere only after %s, past the 2-minute deadline", times[len(times)-1])
	}
	if fleets > 10 {
		t.Errorf("%d CreateFleet calls for %d interrupted nodes; want replacements batched into few", fleets, len(nodes))
	}
}
