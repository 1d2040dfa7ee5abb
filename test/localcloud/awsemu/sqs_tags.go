package awsemu

import (
	"fmt"
	"strings"
)

// SQS queue tags, and delivery from other services (EventBridge targets).

// sqsTagQueueInput is also read by the authorization rule.
type sqsTagQueueInput struct {
	QueueUrl string
	Tags     map[string]string `query:"Tag"`
}

func (s *Server) sqsTagQueue(c *Call, in *sqsTagQueueInput) (*noOutput, error) {
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, errMissingParameter("Tags")
	}
	if len(q.Tags)+len(in.Tags) > 50 {
		merged := map[string]bool{}
		for k := range q.Tags {
			merged[k] = true
		}
		for k := range in.Tags {
			merged[k] = true
		}
		if len(merged) > 50 {
			return nil, errInvalidParameterValue("Too many tags added for queue %s.", q.Name)
		}
	}
	if q.Tags == nil {
		q.Tags = map[string]string{}
	}
	for k, v := range in.Tags {
		q.Tags[k] = v
	}
	return nil, nil
}

type sqsUntagQueueInput struct {
	QueueUrl string
	TagKeys  []string `query:"TagKey"`
}

func (s *Server) sqsUntagQueue(c *Call, in *sqsUntagQueueInput) (*noOutput, error) {
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, errMissingParameter("TagKeys")
	}
	for _, k := range in.TagKeys {
		delete(q.Tags, k)
	}
	return nil, nil
}

type sqsListQueueTagsInput struct{ QueueUrl string }

type sqsListQueueTagsOutput struct {
	Tags sqsTags `json:"Tags,omitempty" xml:"Tag"`
}

func (s *Server) sqsListQueueTags(c *Call, in *sqsListQueueTagsInput) (*sqsListQueueTagsOutput, error) {
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return &sqsListQueueTagsOutput{q.Tags}, nil
}

// sqsDeliverLocked is how other services (EventBridge) put a message on a
// queue: the queue's resource policy must let sourceService send to it, or
// the message is dropped, as on AWS.
func (s *Server) sqsDeliverLocked(queueARN, body, sourceService string) error {
	return s.sqsDeliverFromLocked(queueARN, body, sourceService, "")
}

// sqsDeliverFromLocked is sqsDeliverLocked with the sender's ARN, which an
// aws:SourceArn condition in the queue policy is checked against.
func (s *Server) sqsDeliverFromLocked(queueARN, body, sourceService, sourceARN string) error {
	parts := strings.SplitN(queueARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" {
		return fmt.Errorf("sqs delivery: %q is not an SQS queue ARN", queueARN)
	}
	if parts[3] != s.world.Region || parts[4] != AccountID {
		return fmt.Errorf("sqs delivery: queue %s is not in this region and account", queueARN)
	}
	q := s.world.SQS.Queues[parts[5]]
	if q == nil {
		return fmt.Errorf("sqs delivery: queue %s does not exist", queueARN)
	}
	policy := q.Attributes["Policy"]
	if !policyAllowsService(policy, sourceService, "sqs:SendMessage", queueARN, sourceARN) {
		return fmt.Errorf("sqs delivery: the policy of queue %s does not allow %s to sqs:SendMessage", q.Name, sourceService)
	}
	if _, err := s.sqsSendLocked(q, body, nil, -1, sourceService); err != nil {
		return fmt.Errorf("sqs delivery to %s: %w", q.Name, err)
	}
	s.changed.Broadcast()
	s.dirty = true
	return nil
}
