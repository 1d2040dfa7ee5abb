package interruption

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/nodewright/nodewright/controller/engine/awsevents"
)

// handle parses and acts on one message, deleting it when done. Actions
// that wait for a replacement batch delete it from the batch's callback.
func (c *Controller) handle(ctx context.Context, url string, m sqstypes.Message) {
	logger := log.FromContext(ctx).WithValues("messageId", aws.ToString(m.MessageId))
	ctx = log.IntoContext(ctx, logger)
	msg, err := awsevents.Parse([]byte(aws.ToString(m.Body)))
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
// the first error: the message is acknowledged only when every instance's
// action has started. A message naming no instance would never be
// acknowledged by the countdown, so it is acknowledged at once.
func (c *Controller) act(ctx context.Context, msg *awsevents.Message, done func(error)) {
	if msg.Kind == awsevents.KindNoOp || len(msg.InstanceIDs) == 0 {
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
