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
//
// Files: controller.go polls the queue; delivery.go fans a message out to
// its instances and acknowledges it; handle.go acts on each kind;
// rebalance.go and budget.go hold the rebalance policy; claim.go and
// node.go the writes to NodeClaims and Nodes; drainer.go deletes
// interrupted claims; batcher.go and tracker.go batch replacements and
// measure rescheduling.
package interruption

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
)

// SQSAPI is the part of the SQS client the controller uses.
type SQSAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, opts ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Replacer launches capacity for the pods of nodes about to go
// (provisioning.Provisioner). Each claim it returns names, in
// v1.ReplacementForAnnotationKey, the nodes whose pods it takes.
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
	recorder events.EventRecorder
	opts     Options
	batcher  *batcher
	tracker  *tracker
	// reservations is the rebalance budget taken but not yet visible.
	reservations budgetReservations
}

// NewController returns the consumer.
func NewController(kube client.Client, cloud cloudprovider.CloudProvider, replacer Replacer, q SQSAPI, clk clock.Clock,
	recorder events.EventRecorder, opts Options) *Controller {
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

// Register adds the consumer to the manager. It reads NodeClaims through
// index.NodeClaimInstanceID, which the operator registers.
func (c *Controller) Register(_ context.Context, mgr manager.Manager) error {
	return mgr.Add(c)
}

// Drainer is the controller that drains claims this consumer marked for
// deletion; it shares the consumer's tracker of marked claims.
func (c *Controller) Drainer() *Drainer {
	return NewDrainer(c.kube, c.clock, c.recorder, c.tracker)
}

// Start resolves the queue and long-polls it until ctx ends.
func (c *Controller) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName(c.Name())
	ctx = log.IntoContext(ctx, logger)
	url, err := c.queueURL(ctx)
	if err != nil {
		return nil // ctx ended
	}
	logger.Info("reading interruption queue", "queue", url, "rebalancePolicy", c.opts.RebalancePolicy,
		"deleteFraction", c.opts.DeleteFraction)
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
