package interruption

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	fakeclient "sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/fake"
	"github.com/nodewright/nodewright/controller/engine/awsevents"
	"github.com/nodewright/nodewright/controller/utils/index"
)

// fakeSQS records deleted receipt handles.
type fakeSQS struct {
	mu      sync.Mutex
	deleted map[string]int
}

func (f *fakeSQS) GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error) {
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String("http://q")}, nil
}
func (f *fakeSQS) ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return &sqs.ReceiveMessageOutput{}, nil
}
func (f *fakeSQS) DeleteMessage(_ context.Context, in *sqs.DeleteMessageInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted[aws.ToString(in.ReceiptHandle)]++
	return &sqs.DeleteMessageOutput{}, nil
}
func (f *fakeSQS) count(h string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deleted[h]
}

type fakeReplacer struct {
	mu    sync.Mutex
	calls [][]string
	err   error
	// takes, when set, are the nodes whose pods the claim is for;
	// otherwise it takes pods from every node replaced.
	takes []string
	// during, when set, runs inside Replace, as if while it planned.
	during func()
}

func (r *fakeReplacer) Replace(_ context.Context, nodes []string) ([]*v1.NodeClaim, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, nodes)
	if r.during != nil {
		r.during()
	}
	if r.err != nil {
		return nil, r.err
	}
	takes := nodes
	if r.takes != nil {
		takes = r.takes
	}
	return []*v1.NodeClaim{{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("repl-%d", len(r.calls)),
		Annotations: map[string]string{v1.ReplacementForAnnotationKey: strings.Join(takes, ",")}}}}, nil
}

func (r *fakeReplacer) Calls() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]string(nil), r.calls...)
}

type harness struct {
	t     *testing.T
	kube  client.Client
	cloud *fake.CloudProvider
	q     *fakeSQS
	r     *fakeReplacer
	c     *Controller
}

func newHarness(t *testing.T, policy RebalancePolicy, budget string, claims ...string) *harness {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1.AddToScheme(scheme)
	objs := []client.Object{&v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"},
		Spec: v1.NodePoolSpec{Disruption: v1.Disruption{Budgets: []v1.Budget{{Nodes: budget}}}}}}
	for i, name := range claims {
		node := "node-" + name
		objs = append(objs,
			&v1.NodeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: []string{v1.TerminationFinalizer}, Labels: map[string]string{
				v1.NodePoolLabelKey: "default", corev1.LabelInstanceTypeStable: "m5.large", corev1.LabelTopologyZone: "us-east-1a", v1.CapacityTypeLabelKey: "spot"}},
				Status: v1.NodeClaimStatus{ProviderID: fmt.Sprintf("aws:///us-east-1a/i-%017x", i+1), NodeName: node}},
			&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}})
	}
	kube := fakeclient.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithIndex(&v1.NodeClaim{}, index.NodeClaimInstanceID, func(o client.Object) []string {
			return []string{index.InstanceID(o.(*v1.NodeClaim).Status.ProviderID)}
		}).
		WithIndex(&corev1.Pod{}, index.PodNodeName, func(o client.Object) []string { return []string{o.(*corev1.Pod).Spec.NodeName} }).
		Build()
	h := &harness{t: t, kube: kube, cloud: fake.New(nil), q: &fakeSQS{deleted: map[string]int{}}, r: &fakeReplacer{}}
	h.c = NewController(kube, h.cloud, h.r, h.q, clock.RealClock{}, events.NewFakeRecorder(100),
		Options{Queue: "q", RebalancePolicy: policy, BatchWindow: 20 * time.Millisecond})
	return h
}

func body(detailType, instance string, extra string) string {
	return fmt.Sprintf(`{"version":"0","id":"e","detail-type":%q,"source":"aws.ec2","time":%q,"resources":[],"detail":{"instance-id":%q%s}}`,
		detailType, time.Now().UTC().Format(time.RFC3339), instance, extra)
}

func (h *harness) send(handle, b string) {
	h.c.handle(context.Background(), "http://q", sqstypes.Message{MessageId: aws.String(handle), ReceiptHandle: aws.String(handle), Body: aws.String(b)})
}

func (h *harness) waitDeleted(handle string) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for h.q.count(handle) == 0 {
		if time.Now().After(deadline) {
			h.t.Fatalf("message %s not deleted", handle)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) claim(name string) *v1.NodeClaim {
	var nc v1.NodeClaim
	if err := h.kube.Get(context.Background(), client.ObjectKey{Name: name}, &nc); err != nil {
		h.t.Fatal(err)
	}
	return &nc
}

const inst1 = "i-00000000000000001"

func TestSpotInterruption(t *testing.T) {
	h := newHarness(t, RebalanceReplace, "10%", "a", "b")
	spot := body("EC2 Spot Instance Interruption Warning", inst1, `,"instance-action":"terminate"`)
	// Two copies at once, then a late third: one Replace.
	h.send("m1", spot)
	h.send("m2", spot)
	h.waitDeleted("m1")
	h.waitDeleted("m2")
	h.send("m3", spot)
	h.waitDeleted("m3")
	if calls := h.r.Calls(); len(calls) != 1 || len(calls[0]) != 1 || calls[0][0] != "node-a" {
		t.Fatalf("Replace calls = %v, want one for node-a", calls)
	}
	if ttl := h.cloud.Unavailable["m5.large/us-east-1a/spot"]; ttl != 3*time.Minute {
		t.Errorf("offering marked unavailable for %s, want 3m", ttl)
	}
	nc := h.claim("a")
	if nc.Annotations[KindAnnotationKey] != "spot_interruption" || nc.Annotations[ReplacementsAnnotationKey] != "repl-1" {
		t.Errorf("annotations = %v", nc.Annotations)
	}
	deleteBy, err := time.Parse(time.RFC3339, nc.Annotations[DeleteByAnnotationKey])
	if err != nil || deleteBy.Sub(time.Now()) > time.Minute || deleteBy.Sub(time.Now()) < 55*time.Second {
		t.Errorf("delete-by %v (%v), want about a minute from now", deleteBy, err)
	}
	var node corev1.Node
	if err := h.kube.Get(context.Background(), client.ObjectKey{Name: "node-a"}, &node); err != nil {
		t.Fatal(err)
	}
	if len(node.Spec.Taints) != 1 || !node.Spec.Taints[0].MatchTaint(&v1.DisruptedNoScheduleTaint) {
		t.Errorf("node taints = %v", node.Spec.Taints)
	}
	if h.claim("b").Annotations[KindAnnotationKey] != "" {
		t.Error("claim b touched")
	}
}

// Two nodes interrupted in one batch, where the one replacement takes only
// node-a's pods: node-b's claim waits for no replacement and is drained at
// once, instead of until node-a's replacement joins or its delete-by time.
func TestBatchedNodeWaitsOnlyForItsOwnReplacements(t *testing.T) {
	h := newHarness(t, RebalanceReplace, "10%", "a", "b")
	h.r.takes = []string{"node-a"}
	h.c.opts.BatchWindow = 200 * time.Millisecond
	h.c.batcher.window = h.c.opts.BatchWindow
	h.send("m1", body("EC2 Spot Instance Interruption Warning", inst1, `,"instance-action":"terminate"`))
	h.send("m2", body("EC2 Spot Instance Interruption Warning", "i-00000000000000002", `,"instance-action":"terminate"`))
	h.waitDeleted("m1")
	h.waitDeleted("m2")
	if calls := h.r.Calls(); len(calls) != 1 || len(calls[0]) != 2 {
		t.Fatalf("Replace calls = %v, want one for both nodes", calls)
	}
	if got := h.claim("a").Annotations[ReplacementsAnnotationKey]; got != "repl-1" {
		t.Errorf("claim a's replacements = %q, want repl-1", got)
	}
	b := h.claim("b")
	if b.Annotations[DeleteByAnnotationKey] == "" || b.Annotations[ReplacementsAnnotationKey] != "" {
		t.Fatalf("claim b's annotations = %v, want a delete-by and no replacements", b.Annotations)
	}
	d := h.c.Drainer()
	if _, err := d.Reconcile(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reconcile(context.Background(), h.claim("a")); err != nil {
		t.Fatal(err)
	}
	if h.claim("b").DeletionTimestamp.IsZero() {
		t.Error("claim b not deleted, though none of the batch's replacements is for its pods")
	}
	if !h.claim("a").DeletionTimestamp.IsZero() {
		t.Error("claim a deleted before its replacement is up")
	}
}

// The interrupted claim goes while its replacement is planned (its instance
// ended and garbage collection removed it): the message is done, not
// redelivered to find the claim gone again.
func TestClaimGoneDuringReplaceIsDone(t *testing.T) {
	h := newHarness(t, RebalanceReplace, "10%", "a")
	h.r.during = func() {
		nc := h.claim("a")
		nc.Finalizers = nil
		if err := h.kube.Update(context.Background(), nc); err != nil {
			t.Error(err)
		}
		if err := h.kube.Delete(context.Background(), nc); err != nil {
			t.Error(err)
		}
	}
	h.send("m1", body("EC2 Spot Instance Interruption Warning", inst1, `,"instance-action":"terminate"`))
	h.waitDeleted("m1")
}

func TestReplaceErrorLeavesMessage(t *testing.T) {
	h := newHarness(t, RebalanceReplace, "10%", "a")
	h.r.err = errors.New("boom")
	h.send("m1", body("EC2 Spot Instance Interruption Warning", inst1, ""))
	time.Sleep(200 * time.Millisecond)
	if h.q.count("m1") != 0 {
		t.Error("message deleted although the replacement failed")
	}
	if h.claim("a").Annotations[KindAnnotationKey] != "" {
		t.Error("claim annotated although the replacement failed")
	}
}

func TestMalformedAndUnknownDeleted(t *testing.T) {
	h := newHarness(t, RebalanceReplace, "10%", "a")
	h.send("bad", "{not json")
	h.send("other", `{"source":"aws.s3","detail-type":"x","time":"2026-01-01T00:00:00Z","detail":{}}`)
	h.send("stranger", body("EC2 Spot Instance Interruption Warning", "i-0fffffffffffffff0", ""))
	h.waitDeleted("bad")
	h.waitDeleted("other")
	h.waitDeleted("stranger")
	if len(h.r.Calls()) != 0 {
		t.Error("Replace called")
	}
}

func TestStateChangeDeletesAtOnce(t *testing.T) {
	h := newHarness(t, RebalanceReplace, "10%", "a")
	h.send("run", body("EC2 Instance State-change Notification", inst1, `,"state":"running"`))
	h.waitDeleted("run")
	if !h.claim("a").DeletionTimestamp.IsZero() {
		t.Fatal("running state deleted the claim")
	}
	h.send("term", body("EC2 Instance State-change Notification", inst1, `,"state":"terminated"`))
	h.waitDeleted("term")
	if h.claim("a").DeletionTimestamp.IsZero() {
		t.Error("terminated state did not delete the claim")
	}
}

func TestRebalance(t *testing.T) {
	rebalance := body("EC2 Instance Rebalance Recommendation", inst1, "")
	t.Run("Replace blocked by budget", func(t *testing.T) {
		h := newHarness(t, RebalanceReplace, "0", "a")
		h.send("m", rebalance)
		time.Sleep(100 * time.Millisecond)
		if h.q.count("m") != 0 || len(h.r.Calls()) != 0 {
			t.Error("rebalance acted on despite a zero budget")
		}
	})
	t.Run("Replace", func(t *testing.T) {
		h := newHarness(t, RebalanceReplace, "10%", "a")
		h.send("m", rebalance)
		h.waitDeleted("m")
		if len(h.r.Calls()) != 1 || h.cloud.Unavailable["m5.large/us-east-1a/spot"] == 0 {
			t.Errorf("Replace calls %v, unavailable %v", h.r.Calls(), h.cloud.Unavailable)
		}
	})
	t.Run("Cordon", func(t *testing.T) {
		h := newHarness(t, RebalanceCordon, "10%", "a")
		h.send("m", rebalance)
		h.waitDeleted("m")
		var node corev1.Node
		_ = h.kube.Get(context.Background(), client.ObjectKey{Name: "node-a"}, &node)
		if !node.Spec.Unschedulable || len(h.r.Calls()) != 0 || h.claim("a").Annotations[DeleteByAnnotationKey] != "" {
			t.Errorf("cordon: unschedulable %v, replace calls %v", node.Spec.Unschedulable, h.r.Calls())
		}
	})
}

func TestParseRebalancePolicy(t *testing.T) {
	for in, want := range map[string]RebalancePolicy{"Replace": RebalanceReplace, "cordon": RebalanceCordon, "IGNORE": RebalanceIgnore} {
		if got, err := ParseRebalancePolicy(in); err != nil || got != want {
			t.Errorf("%s: %s, %v", in, got, err)
		}
	}
	if _, err := ParseRebalancePolicy("Drain"); err == nil {
		t.Error("Drain accepted")
	}
}

func TestDeleteBy(t *testing.T) {
	at := time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		fraction float64
		msg      awsevents.Message
		want     time.Time
	}{
		"spot, default half":        {0, awsevents.Message{Kind: awsevents.KindSpotInterruption, Time: at}, at.Add(time.Minute)},
		"spot, a quarter":           {0.25, awsevents.Message{Kind: awsevents.KindSpotInterruption, Time: at}, at.Add(30 * time.Second)},
		"capacity reservation, all": {1, awsevents.Message{Kind: awsevents.KindCapacityReservationInterrupted, Time: at}, at.Add(2 * time.Minute)},
		"scheduled change in 1h":    {0.5, awsevents.Message{Kind: awsevents.KindScheduledChange, Time: at, StartTime: at.Add(time.Hour)}, at.Add(30 * time.Minute)},
		"scheduled change in past":  {0.5, awsevents.Message{Kind: awsevents.KindScheduledChange, Time: at, StartTime: at.Add(-time.Hour)}, at},
		"out of range falls back":   {1.5, awsevents.Message{Kind: awsevents.KindSpotInterruption, Time: at}, at.Add(time.Minute)},
	} {
		t.Run(name, func(t *testing.T) {
			c := NewController(nil, nil, nil, nil, clock.RealClock{}, nil, Options{DeleteFraction: tc.fraction})
			if got := c.deleteBy(&tc.msg); !got.Equal(tc.want) {
				t.Errorf("deleteBy = %s, want %s", got, tc.want)
			}
		})
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// A pool whose budgets cannot be evaluated has no budget for rebalance
// replacements: the message is left for redelivery as budget-blocked, not
// failed as an error.
func TestRebalanceInvalidBudgetIsNoBudget(t *testing.T) {
	h := newHarness(t, RebalanceReplace, "ten", "a")
	blocked := actions.WithLabelValues(ActionBudgetBlocked)
	before := counterValue(t, blocked)
	h.send("m", body("EC2 Instance Rebalance Recommendation", inst1, ""))
	time.Sleep(100 * time.Millisecond)
	if h.q.count("m") != 0 || len(h.r.Calls()) != 0 {
		t.Error("rebalance acted on despite budgets that cannot be evaluated")
	}
	if got := counterValue(t, blocked); got != before+1 {
		t.Errorf("budget_blocked actions went from %v to %v, want one more", before, got)
	}
}

// Two rebalance recommendations handled back to back, with budget for one:
// the second check runs while the first replacement waits for its batch
// and before its claim is annotated, so it must see the first's
// reservation and leave its message for redelivery.
func TestRebalanceBudgetIsReservedAtOnce(t *testing.T) {
	h := newHarness(t, RebalanceReplace, "1", "a", "b")
	blocked := actions.WithLabelValues(ActionBudgetBlocked)
	before := counterValue(t, blocked)
	h.send("m1", body("EC2 Instance Rebalance Recommendation", inst1, ""))
	h.send("m2", body("EC2 Instance Rebalance Recommendation", "i-00000000000000002", ""))
	if got := counterValue(t, blocked); got != before+1 {
		t.Fatalf("budget_blocked actions went from %v to %v, want one more: both messages passed a budget of 1", before, got)
	}
	h.waitDeleted("m1")
	if h.q.count("m2") != 0 {
		t.Error("the second message was deleted, though its budget was taken")
	}
	if calls := h.r.Calls(); len(calls) != 1 || len(calls[0]) != 1 {
		t.Errorf("Replace calls %v, want one node replaced", calls)
	}
	// Once the first claim shows as disrupting, its reservation is not
	// counted twice: the budget stays spent by exactly that one claim.
	if h.claim("a").Annotations[DeleteByAnnotationKey] == "" {
		t.Fatal("claim a not annotated after its message was deleted")
	}
	h.send("m2", body("EC2 Instance Rebalance Recommendation", "i-00000000000000002", ""))
	if got := counterValue(t, blocked); got != before+2 {
		t.Errorf("budget_blocked went to %v, want %v while claim a is disrupting", got, before+2)
	}
}
