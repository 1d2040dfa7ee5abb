// Package interruption reads the interruption queue (SQS, fed by
// EventBridge rules) and acts on what it says before AWS takes instances
// away: spot interruption and capacity reservation warnings and AWS Health
// scheduled changes get replacement capacity first and a drain after;
// rebalance recommendations follow the rebalance policy; an instance that
// is stopping or gone has its NodeClaim deleted at once.
//
// A message is deleted from the queue only once its action has durably
// started: the NodeClaim carries the interruption annotations (which also
// make a duplicate or late message a no-op) and any replacement exists.
// A failed action leaves the message for SQS to deliver again. The drain
// that follows is the Drainer's, driven by those annotations, so it
// survives a restart of the controller.
package interruption

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/controllers/index"
	"github.com/nodewright/nodewright/controller/disruption"
	"github.com/nodewright/nodewright/controller/interruption"
)

// Annotations on an interrupted NodeClaim.
const (
	// KindAnnotationKey records the interruption handled; its presence makes
	// later messages about the instance no-ops.
	KindAnnotationKey = v1.Group + "/interruption"
	// MessageTimeAnnotationKey is when the event was emitted (RFC 3339).
	MessageTimeAnnotationKey = v1.Group + "/interruption-time"
	// DeleteByAnnotationKey is when the claim is deleted at the latest, even
	// if its replacements have not launched (RFC 3339). Absent: not deleted
	// (a cordon).
	DeleteByAnnotationKey = v1.Group + "/interruption-delete-by"
	// ReplacementsAnnotationKey names the NodeClaims launched for its pods.
	ReplacementsAnnotationKey = v1.Group + "/interruption-replacements"
)

// RebalancePolicy says what a rebalance recommendation does.
type RebalancePolicy string

// Rebalance policies.
const (
	RebalanceReplace RebalancePolicy = "Replace"
	RebalanceCordon  RebalancePolicy = "Cordon"
	RebalanceIgnore  RebalancePolicy = "Ignore"
)

// ParseRebalancePolicy accepts Replace, Cordon or Ignore (any case).
func ParseRebalancePolicy(s string) (RebalancePolicy, error) {
	for _, p := range []RebalancePolicy{RebalanceReplace, RebalanceCordon, RebalanceIgnore} {
		if strings.EqualFold(s, string(p)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("rebalance policy %q: want Replace, Cordon or Ignore", s)
}

// Options tune the controller.
type Options struct {
	// Queue is the queue's name or URL.
	Queue string
	// RebalancePolicy defaults to Replace.
	RebalancePolicy RebalancePolicy
	// DeleteFraction of the warning time (2 minutes for spot) after which
	// the claim is deleted even if its replacement has not launched.
	// Default 0.5.
	DeleteFraction float64
	// UnavailableFor is how long an interrupted pool is avoided. Default 3m.
	UnavailableFor time.Duration
	// RebalanceDeleteAfter bounds how long a rebalanced node waits for its
	// replacement. Default 10m.
	RebalanceDeleteAfter time.Duration
	// Workers handle messages concurrently. Default 10.
	Workers int
	// BatchWindow collects interrupted nodes into one replacement. Default 1s.
	BatchWindow time.Duration
}

func (o Options) withDefaults() Options {
	if o.RebalancePolicy == "" {
		o.RebalancePolicy = RebalanceReplace
	}
	if o.DeleteFraction <= 0 || o.DeleteFraction > 1 {
		o.DeleteFraction = 0.5
	}
	if o.UnavailableFor <= 0 {
		o.UnavailableFor = 3 * time.Minute
	}
	if o.RebalanceDeleteAfter <= 0 {
		o.RebalanceDeleteAfter = 10 * time.Minute
	}
	if o.Workers <= 0 {
		o.Workers = 10
	}
	if o.BatchWindow <= 0 {
		o.BatchWindow = time.Second
	}
	return o
}

// SQSAPI is the part of the SQS client the controller uses.
type SQSAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Replacer launches capacity for the pods of nodes about to go
// (provisioning.Provisioner).
type Replacer interface {
	Replace(ctx context.Context, nodes []string) ([]*v1.NodeClaim, error)
}

// Controller consumes the interruption queue. It is a leader-elected
// manager.Runnable.
type Controller struct {
	kube     client.Client
	cloud    cloudprovider.CloudProvider
	replacer Replacer
	sqs      SQSAPI
	clock    clock.Clock
	recorder record.EventRecorder
	opts     Options
	batcher  *batcher
	tracker  *tracker
}

// NewController returns the consumer.
func NewController(kube client.Client, cloud cloudprovider.CloudProvider, replacer Replacer, q SQSAPI, clk clock.Clock,
	recorder record.EventRecorder, opts Options) *Controller {
	opts = opts.withDefaults()
	c := &Controller{kube: kube, cloud: cloud, replacer: replacer, sqs: q, clock: clk, recorder: recorder, opts: opts,
		tracker: newTracker(kube, clk)}
	c.batcher = newBatcher(clk, opts.BatchWindow, c.replaceBatch)
	return c
}

// Name of the controller.
func (c *Controller) Name() string { return "interruption" }

// NeedLeaderElection: only the leader acts on interruptions.
func (c *Controller) NeedLeaderElection() bool { return true }

// Register adds the consumer and its drainer to the manager.
func (c *Controller) Register(ctx context.Context, mgr manager.Manager) error {
	if err := index.NodeClaimsByInstanceID(ctx, mgr); err != nil {
		return err
	}
	if err := index.PodsByNode(ctx, mgr); err != nil {
		return err
	}
	if err := NewDrainer(c.kube, c.clock, c.recorder, c.tracker).Register(ctx, mgr); err != nil {
		return err
	}
	return mgr.Add(c)
}

// Start resolves the queue and long-polls it until ctx ends.
func (c *Controller) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName(c.Name())
	ctx = log.IntoContext(ctx, logger)
	url, err := c.queueURL(ctx)
	if err != nil {
		return nil // ctx ended
	}
	logger.Info("reading interruption queue", "queue", url, "rebalancePolicy", c.opts.RebalancePolicy)
	c.batcher.base = ctx
	go c.tracker.run(ctx)
	work := make(chan sqstypes.Message)
	var wg sync.WaitGroup
	for range c.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				c.handle(ctx, url, m)
			}
		}()
	}
	defer func() { close(work); wg.Wait() }()
	for ctx.Err() == nil {
		out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 20})
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			logger.Error(err, "receiving interruption messages", "queue", url)
			c.sleep(ctx, 2*time.Second)
			continue
		}
		for _, m := range out.Messages {
			select {
			case work <- m:
			case <-ctx.Done():
				return nil
			}
		}
	}
	return nil
}

// queueURL accepts a URL as is and looks a name up, retrying until it
// resolves: the queue may be created after the controller starts.
func (c *Controller) queueURL(ctx context.Context) (string, error) {
	if strings.HasPrefix(c.opts.Queue, "https://") || strings.HasPrefix(c.opts.Queue, "http://") {
		return c.opts.Queue, nil
	}
	for {
		out, err := c.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(c.opts.Queue)})
		if err == nil {
			return aws.ToString(out.QueueUrl), nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		log.FromContext(ctx).Error(err, "resolving interruption queue; retrying", "queue", c.opts.Queue)
		c.sleep(ctx, 10*time.Second)
	}
}

func (c *Controller) sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-c.clock.After(d):
	}
}

// handle parses and acts on one message, deleting it when done. Actions
// that wait for a replacement batch delete it from the batch's callback.
func (c *Controller) handle(ctx context.Context, url string, m sqstypes.Message) {
	logger := log.FromContext(ctx).WithValues("messageId", aws.ToString(m.MessageId))
	ctx = log.IntoContext(ctx, logger)
	msg, err := interruption.Parse([]byte(aws.ToString(m.Body)))
	if err != nil {
		messagesReceived.WithLabelValues("malformed").Inc()
		actions.WithLabelValues(ActionDropped).Inc()
		logger.Info("dropping malformed interruption message", "error", err.Error())
		c.deleteMessage(ctx, url, m)
		return
	}
	messagesReceived.WithLabelValues(string(msg.Kind)).Inc()
	logger = logger.WithValues("kind", msg.Kind, "instances", msg.InstanceIDs, "eventTime", msg.Time)
	ctx = log.IntoContext(ctx, logger)
	done := func(err error) {
		if err != nil {
			logger.Error(err, "interruption message not handled; it will be delivered again")
			return
		}
		messageLatency.Observe(c.clock.Since(msg.Time).Seconds())
		c.deleteMessage(ctx, url, m)
	}
	c.act(ctx, msg, done)
}

func (c *Controller) deleteMessage(ctx context.Context, url string, m sqstypes.Message) {
	if _, err := c.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		log.FromContext(ctx).Error(err, "deleting interruption message")
	}
}

// act runs msg's action on each of its instances and calls done once, with
// the first error.
func (c *Controller) act(ctx context.Context, msg *interruption.Message, done func(error)) {
	if msg.Kind == interruption.KindNoOp {
		actions.WithLabelValues(ActionIgnore).Inc()
		done(nil)
		return
	}
	var (
		mu      sync.Mutex
		pending = len(msg.InstanceIDs)
		first   error
	)
	one := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil && first == nil {
			first = err
		}
		if pending--; pending == 0 {
			done(first)
		}
	}
	for _, id := range msg.InstanceIDs {
		c.actOn(ctx, msg, id, one)
	}
}

// actOn handles one instance; done is called exactly once.
func (c *Controller) actOn(ctx context.Context, msg *interruption.Message, instanceID string, done func(error)) {
	logger := log.FromContext(ctx).WithValues("instance", instanceID)
	ctx = log.IntoContext(ctx, logger)
	nc, err := c.claimFor(ctx, instanceID)
	if err != nil {
		done(err)
		return
	}
	if nc == nil {
		logger.V(1).Info("no nodeclaim for interrupted instance")
		actions.WithLabelValues(ActionIgnore).Inc()
		done(nil)
		return
	}
	logger = logger.WithValues("nodeclaim", nc.Name, "node", nc.Status.NodeName)
	ctx = log.IntoContext(ctx, logger)
	if !nc.DeletionTimestamp.IsZero() {
		actions.WithLabelValues(ActionDuplicate).Inc()
		done(nil)
		return
	}
	switch msg.Kind {
	case interruption.KindStateChange:
		done(c.deleteNow(ctx, msg, nc))
	case interruption.KindSpotInterruption, interruption.KindCapacityReservationInterrupted:
		if c.handled(nc) {
			actions.WithLabelValues(ActionDuplicate).Inc()
			done(nil)
			return
		}
		c.markUnavailable(ctx, nc)
		deleteBy := msg.Time.Add(time.Duration(c.opts.DeleteFraction * float64(interruption.SpotWarning)))
		c.replace(ctx, msg, nc, deleteBy, done)
	case interruption.KindScheduledChange:
		if c.handled(nc) {
			actions.WithLabelValues(ActionDuplicate).Inc()
			done(nil)
			return
		}
		lead := msg.StartTime.Sub(msg.Time)
		if lead < 0 {
			lead = 0
		}
		c.replace(ctx, msg, nc, msg.Time.Add(time.Duration(c.opts.DeleteFraction*float64(lead))), done)
	case interruption.KindRebalanceRecommendation:
		c.rebalance(ctx, msg, nc, done)
	default:
		actions.WithLabelValues(ActionIgnore).Inc()
		done(nil)
	}
}

// claimFor finds the NodeClaim of an instance through the field index.
func (c *Controller) claimFor(ctx context.Context, instanceID string) (*v1.NodeClaim, error) {
	var list v1.NodeClaimList
	if err := c.kube.List(ctx, &list, client.MatchingFields{index.NodeClaimInstanceID: instanceID}); err != nil {
		return nil, fmt.Errorf("finding the nodeclaim of instance %s: %w", instanceID, err)
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	return &list.Items[0], nil
}

func (c *Controller) handled(nc *v1.NodeClaim) bool { return nc.Annotations[KindAnnotationKey] != "" }

func (c *Controller) markUnavailable(ctx context.Context, nc *v1.NodeClaim) {
	typ, zone, ct := nc.Labels[corev1.LabelInstanceTypeStable], nc.Labels[corev1.LabelTopologyZone], nc.Labels[v1.CapacityTypeLabelKey]
	if typ == "" || zone == "" || ct == "" {
		return
	}
	c.cloud.MarkUnavailable(typ, zone, ct, c.opts.UnavailableFor)
	actions.WithLabelValues(ActionMarkUnavailable).Inc()
	log.FromContext(ctx).Info("marked offering unavailable", "instanceType", typ, "zone", zone, "capacityType", ct,
		"for", c.opts.UnavailableFor.String())
}

// deleteNow taints the node and deletes the claim: the instance is going
// or gone, its pods must reschedule at once.
func (c *Controller) deleteNow(ctx context.Context, msg *interruption.Message, nc *v1.NodeClaim) error {
	node, err := c.node(ctx, nc)
	if err != nil {
		return err
	}
	if err := taintAndDelete(ctx, c.kube, node, nc); err != nil {
		return err
	}
	actions.WithLabelValues(ActionDelete).Inc()
	c.tracker.watch(ctx, node, msg.Time)
	what := fmt.Sprintf("Instance %s: deleting nodeclaim", msg.State)
	log.FromContext(ctx).Info(what)
	c.event(nc, node, "InstanceStateChange", what)
	return nil
}

func (c *Controller) node(ctx context.Context, nc *v1.NodeClaim) (*corev1.Node, error) {
	if nc.Status.NodeName == "" {
		return nil, nil
	}
	var node corev1.Node
	if err := c.kube.Get(ctx, client.ObjectKey{Name: nc.Status.NodeName}, &node); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("getting node %s: %w", nc.Status.NodeName, err)
	}
	return &node, nil
}

func (c *Controller) event(nc *v1.NodeClaim, node *corev1.Node, reason, message string) {
	c.recorder.Event(nc, corev1.EventTypeWarning, reason, message)
	if node != nil {
		c.recorder.Event(node, corev1.EventTypeWarning, reason, message)
	}
}

var reasons = map[interruption.Kind]string{
	interruption.KindSpotInterruption:               "SpotInterrupted",
	interruption.KindCapacityReservationInterrupted: "CapacityReservationInterrupted",
	interruption.KindScheduledChange:                "InstanceScheduledChange",
	interruption.KindRebalanceRecommendation:        "RebalanceRecommendation",
	interruption.KindStateChange:                    "InstanceStateChange",
}

// replace taints the node so nothing new lands on it, and hands it to the
// batcher; the batch's callback records the replacement on the claim.
func (c *Controller) replace(ctx context.Context, msg *interruption.Message, nc *v1.NodeClaim, deleteBy time.Time, done func(error)) {
	node, err := c.node(ctx, nc)
	if err != nil {
		done(err)
		return
	}
	if node == nil {
		// No node yet: no pods to move.
		done(c.annotate(ctx, nc, msg, deleteBy, nil))
		return
	}
	if err := taint(ctx, c.kube, node); err != nil {
		done(err)
		return
	}
	c.batcher.add(ctx, node.Name, func(replacements []string, err error, duplicate bool) {
		if duplicate {
			actions.WithLabelValues(ActionDuplicate).Inc()
			done(nil)
			return
		}
		if err != nil {
			done(err)
			return
		}
		if err := c.annotate(ctx, nc, msg, deleteBy, replacements); err != nil {
			done(err)
			return
		}
		actions.WithLabelValues(ActionReplace).Inc()
		what := fmt.Sprintf("%s: replacing with %v, deleting by %s", msg.DetailType, replacements, deleteBy.UTC().Format(time.RFC3339))
		log.FromContext(ctx).Info("replacing interrupted node", "replacements", replacements, "deleteBy", deleteBy)
		c.event(nc, node, reasons[msg.Kind], what)
		done(nil)
	})
}

// replaceBatch is the batcher's flush: one Replace for every node.
func (c *Controller) replaceBatch(ctx context.Context, nodes []string) ([]string, error) {
	claims, err := c.replacer.Replace(ctx, nodes)
	names := make([]string, 0, len(claims))
	for _, nc := range claims {
		names = append(names, nc.Name)
	}
	return names, err
}

// annotate records the interruption on the claim: the Drainer takes it from
// there, and later messages about the instance are no-ops.
func (c *Controller) annotate(ctx context.Context, nc *v1.NodeClaim, msg *interruption.Message, deleteBy time.Time, replacements []string) error {
	patch := client.MergeFrom(nc.DeepCopy())
	if nc.Annotations == nil {
		nc.Annotations = map[string]string{}
	}
	nc.Annotations[KindAnnotationKey] = string(msg.Kind)
	nc.Annotations[MessageTimeAnnotationKey] = msg.Time.UTC().Format(time.RFC3339)
	if !deleteBy.IsZero() {
		nc.Annotations[DeleteByAnnotationKey] = deleteBy.UTC().Format(time.RFC3339)
	}
	nc.Annotations[ReplacementsAnnotationKey] = strings.Join(replacements, ",")
	if err := c.kube.Patch(ctx, nc, patch); err != nil {
		return fmt.Errorf("annotating interrupted nodeclaim %s: %w", nc.Name, err)
	}
	return nil
}

// rebalance follows the policy: Replace (within the NodePool's disruption
// budget, avoiding the at-risk pool), Cordon, or Ignore.
func (c *Controller) rebalance(ctx context.Context, msg *interruption.Message, nc *v1.NodeClaim, done func(error)) {
	if c.handled(nc) {
		actions.WithLabelValues(ActionDuplicate).Inc()
		done(nil)
		return
	}
	switch c.opts.RebalancePolicy {
	case RebalanceIgnore:
		actions.WithLabelValues(ActionIgnore).Inc()
		done(nil)
	case RebalanceCordon:
		node, err := c.node(ctx, nc)
		if err == nil && node != nil {
			err = cordon(ctx, c.kube, node)
		}
		if err == nil {
			err = c.annotate(ctx, nc, msg, time.Time{}, nil)
		}
		if err == nil {
			actions.WithLabelValues(ActionCordon).Inc()
			log.FromContext(ctx).Info("cordoned node on rebalance recommendation")
			c.event(nc, node, reasons[msg.Kind], "Rebalance recommendation: cordoned")
		}
		done(err)
	default:
		ok, err := c.withinBudget(ctx, nc)
		if err != nil {
			done(err)
			return
		}
		if !ok {
			actions.WithLabelValues(ActionBudgetBlocked).Inc()
			done(errBudget)
			return
		}
		c.markUnavailable(ctx, nc)
		c.replace(ctx, msg, nc, c.clock.Now().Add(c.opts.RebalanceDeleteAfter), done)
	}
}

// errBudget leaves a rebalance message for redelivery: the budget frees up
// as other disruptions finish.
var errBudget = errors.New("disruption budget exhausted; waiting for redelivery")

// withinBudget counts the pool's claims being disrupted (deleting, or
// interrupted and waiting for their drain) against its budget for Drifted:
// a rebalance recommendation, like drift, is a node the pool would rather
// not keep, replaced voluntarily.
func (c *Controller) withinBudget(ctx context.Context, nc *v1.NodeClaim) (bool, error) {
	poolName := nc.Labels[v1.NodePoolLabelKey]
	var np v1.NodePool
	if err := c.kube.Get(ctx, client.ObjectKey{Name: poolName}, &np); err != nil {
		return false, fmt.Errorf("getting nodepool %s: %w", poolName, err)
	}
	var claims v1.NodeClaimList
	if err := c.kube.List(ctx, &claims, client.MatchingLabels{v1.NodePoolLabelKey: poolName}); err != nil {
		return false, fmt.Errorf("listing nodeclaims of nodepool %s: %w", poolName, err)
	}
	disrupting := 0
	for i := range claims.Items {
		if !claims.Items[i].DeletionTimestamp.IsZero() || claims.Items[i].Annotations[DeleteByAnnotationKey] != "" {
			disrupting++
		}
	}
	allowed, err := disruption.Allowed(np.Spec.Disruption.Budgets, v1.DisruptionReasonDrifted, len(claims.Items), c.clock.Now())
	if err != nil {
		return false, fmt.Errorf("budgets of nodepool %s: %w", poolName, err)
	}
	return disrupting < allowed, nil
}
