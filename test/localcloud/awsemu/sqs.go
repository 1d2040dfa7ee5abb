package awsemu

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SQSState is the simulated SQS service: standard queues keyed by name.
type SQSState struct {
	Queues map[string]*Queue `json:"queues"`
}

// Queue is one standard SQS queue.
type Queue struct {
	Name string `json:"name"`
	// Attributes holds the settable attributes as SQS reports them (strings);
	// every default is filled in at creation.
	Attributes map[string]string `json:"attributes"`
	Tags       map[string]string `json:"tags"`
	Created    time.Time         `json:"created"`
	Modified   time.Time         `json:"modified"`
	LastPurge  time.Time         `json:"lastPurge"`
	Messages   []*SQSMessage     `json:"messages"`
}

// SQSMessage is a message held by a queue.
type SQSMessage struct {
	ID                string                         `json:"id"`
	Body              string                         `json:"body"`
	MD5OfBody         string                         `json:"md5OfBody"`
	MD5OfAttributes   string                         `json:"md5OfAttributes"`
	MessageAttributes map[string]SQSMessageAttribute `json:"messageAttributes"`
	SenderID          string                         `json:"senderId"`
	SentAt            time.Time                      `json:"sentAt"`
	// VisibleAt is when the message can next be received: after a delay or
	// at the end of its visibility timeout.
	VisibleAt      time.Time `json:"visibleAt"`
	ReceiveCount   int       `json:"receiveCount"`
	FirstReceiveAt time.Time `json:"firstReceiveAt"`
	// ReceiptHandle is the most recent one handed out.
	ReceiptHandle string `json:"receiptHandle"`
}

func newSQSState(w *World) *SQSState { return &SQSState{Queues: map[string]*Queue{}} }

// Defaults and limits of the settable queue attributes.
var sqsAttributeDefaults = map[string]string{
	"DelaySeconds":                  "0",
	"MaximumMessageSize":            "262144",
	"MessageRetentionPeriod":        "345600",
	"ReceiveMessageWaitTimeSeconds": "0",
	"VisibilityTimeout":             "30",
	"SqsManagedSseEnabled":          "true",
}

var sqsAttributeRanges = map[string][2]int{
	"DelaySeconds":                  {0, 900},
	"MaximumMessageSize":            {1024, 1048576},
	"MessageRetentionPeriod":        {60, 1209600},
	"ReceiveMessageWaitTimeSeconds": {0, 20},
	"VisibilityTimeout":             {0, 43200},
	"KmsDataKeyReusePeriodSeconds":  {60, 86400},
}

// Settable attributes without a numeric range.
var sqsFreeAttributes = map[string]bool{
	"Policy": true, "RedrivePolicy": true, "RedriveAllowPolicy": true, "KmsMasterKeyId": true,
	"SqsManagedSseEnabled": true,
}

// Read-only attributes GetQueueAttributes reports besides the settable ones.
var sqsComputedAttributes = []string{
	"QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
	"ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp",
}

var sqsQueueName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

func errQueueDoesNotExist() *Error {
	return Errorf(400, "QueueDoesNotExist", "The specified queue does not exist.")
}

// validateSQSAttributes checks names and values the way SetQueueAttributes
// and CreateQueue do.
func validateSQSAttributes(attrs map[string]string) error {
	for name, v := range attrs {
		if r, ok := sqsAttributeRanges[name]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < r[0] || n > r[1] {
				return Errorf(400, "InvalidAttributeValue", "Invalid value for the parameter %s. Reason: must be an integer between %d and %d.", name, r[0], r[1])
			}
			continue
		}
		if !sqsFreeAttributes[name] {
			if name == "FifoQueue" || name == "ContentBasedDeduplication" || name == "DeduplicationScope" || name == "FifoThroughputLimit" {
				return Errorf(400, "InvalidAttributeValue", "FIFO queues are not supported by the local cloud (attribute %s).", name)
			}
			return Errorf(400, "InvalidAttributeName", "Unknown Attribute %s.", name)
		}
		switch name {
		case "Policy", "RedrivePolicy", "RedriveAllowPolicy":
			if v != "" && !json.Valid([]byte(v)) {
				return Errorf(400, "InvalidAttributeValue", "Invalid value for the parameter %s. Reason: the value is not valid JSON.", name)
			}
			if name == "Policy" && v != "" {
				if _, err := parsePolicy(v); err != nil {
					return Errorf(400, "InvalidAttributeValue", "Invalid value for the parameter Policy. Reason: %v.", err)
				}
			}
		case "SqsManagedSseEnabled":
			if v != "true" && v != "false" {
				return Errorf(400, "InvalidAttributeValue", "Invalid value for the parameter SqsManagedSseEnabled.")
			}
		}
	}
	return nil
}

func (s *Server) queueURL(c *Call, name string) string {
	host := ""
	if c != nil && c.HTTP != nil {
		host = c.HTTP.Host
	}
	if host == "" {
		return s.URL + "/" + AccountID + "/" + name
	}
	return "http://" + host + "/" + AccountID + "/" + name
}

func (s *Server) queueARN(name string) string {
	return "arn:aws:sqs:" + s.world.Region + ":" + AccountID + ":" + name
}

// queueFromURL resolves a QueueUrl by its path (/<account>/<name>), so a URL
// built with another host name for the emulator still works.
func (s *Server) queueFromURL(raw string) (*Queue, error) {
	if raw == "" {
		return nil, errMissingParameter("QueueUrl")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, Errorf(400, "InvalidAddress", "The address %s is not valid for this endpoint.", raw)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] != AccountID {
		return nil, errQueueDoesNotExist()
	}
	q := s.world.SQS.Queues[parts[1]]
	if q == nil {
		return nil, errQueueDoesNotExist()
	}
	return q, nil
}

func (q *Queue) intAttr(name string) int {
	n, _ := strconv.Atoi(q.Attributes[name])
	return n
}

// expire drops messages past the queue's retention period.
func (q *Queue) expire(now time.Time) {
	retention := time.Duration(q.intAttr("MessageRetentionPeriod")) * time.Second
	kept := q.Messages[:0]
	for _, m := range q.Messages {
		if now.Sub(m.SentAt) < retention {
			kept = append(kept, m)
		}
	}
	for i := len(kept); i < len(q.Messages); i++ {
		q.Messages[i] = nil
	}
	q.Messages = kept
}

func (s *Server) sqsTickLocked(now time.Time) {
	for _, q := range s.world.SQS.Queues {
		q.expire(now)
	}
}

func (s *Server) registerSQS() {
	s.register("sqs", "CreateQueue", protoJSON10, true, handle(s.sqsCreateQueue))
	s.register("sqs", "GetQueueUrl", protoJSON10, false, handle(s.sqsGetQueueURL))
	s.register("sqs", "ListQueues", protoJSON10, false, handle(s.sqsListQueues))
	s.register("sqs", "GetQueueAttributes", protoJSON10, false, handle(s.sqsGetQueueAttributes))
	s.register("sqs", "SetQueueAttributes", protoJSON10, true, handle(s.sqsSetQueueAttributes))
	s.register("sqs", "DeleteQueue", protoJSON10, true, handle(s.sqsDeleteQueue))
	s.register("sqs", "PurgeQueue", protoJSON10, true, handle(s.sqsPurgeQueue))
	s.register("sqs", "SendMessage", protoJSON10, true, handle(s.sqsSendMessage))
	s.register("sqs", "SendMessageBatch", protoJSON10, true, handle(s.sqsSendMessageBatch))
	s.register("sqs", "ReceiveMessage", protoJSON10, true, handle(s.sqsReceiveMessage))
	s.register("sqs", "DeleteMessage", protoJSON10, true, handle(s.sqsDeleteMessage))
	s.register("sqs", "DeleteMessageBatch", protoJSON10, true, handle(s.sqsDeleteMessageBatch))
	s.register("sqs", "ChangeMessageVisibility", protoJSON10, true, handle(s.sqsChangeMessageVisibility))
	s.register("sqs", "TagQueue", protoJSON10, true, handle(s.sqsTagQueue))
	s.register("sqs", "UntagQueue", protoJSON10, true, handle(s.sqsUntagQueue))
	s.register("sqs", "ListQueueTags", protoJSON10, false, handle(s.sqsListQueueTags))
}

type queueURLOutput struct {
	QueueUrl string `json:"QueueUrl"`
}

// The query protocol names SQS's lists and maps in the singular, flattened:
// Attribute.N.Name, Tag.N.Key, AttributeName.N, TagKey.N.

// sqsCreateQueueInput is also read by the authorization rule (its tags).
type sqsCreateQueueInput struct {
	QueueName  string
	Attributes map[string]string `query:"Attribute"`
	Tags       map[string]string `json:"tags" query:"Tag"`
}

func (s *Server) sqsCreateQueue(c *Call, in *sqsCreateQueueInput) (*queueURLOutput, error) {
	if in.QueueName == "" {
		return nil, errMissingParameter("QueueName")
	}
	if strings.HasSuffix(in.QueueName, ".fifo") {
		return nil, Errorf(400, "InvalidAttributeValue", "FIFO queues are not supported by the local cloud.")
	}
	if !sqsQueueName.MatchString(in.QueueName) {
		return nil, errInvalidParameterValue("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if err := validateSQSAttributes(in.Attributes); err != nil {
		return nil, err
	}
	if q := s.world.SQS.Queues[in.QueueName]; q != nil {
		// Re-creating is idempotent only when the requested attributes agree.
		for k, v := range in.Attributes {
			if q.Attributes[k] != v {
				return nil, Errorf(400, "QueueNameExists", "A queue already exists with the same name and a different value for attribute %s", k)
			}
		}
		return &queueURLOutput{s.queueURL(c, q.Name)}, nil
	}
	now := s.clock.Now()
	q := &Queue{Name: in.QueueName, Attributes: map[string]string{}, Tags: map[string]string{}, Created: now, Modified: now}
	for k, v := range sqsAttributeDefaults {
		q.Attributes[k] = v
	}
	for k, v := range in.Attributes {
		q.Attributes[k] = v
	}
	for k, v := range in.Tags {
		q.Tags[k] = v
	}
	s.world.SQS.Queues[q.Name] = q
	s.log.Info("sqs queue created", "queue", q.Name)
	return &queueURLOutput{s.queueURL(c, q.Name)}, nil
}

type sqsGetQueueURLInput struct {
	QueueName              string
	QueueOwnerAWSAccountId string
}

func (s *Server) sqsGetQueueURL(c *Call, in *sqsGetQueueURLInput) (*queueURLOutput, error) {
	if in.QueueName == "" {
		return nil, errMissingParameter("QueueName")
	}
	if in.QueueOwnerAWSAccountId != "" && in.QueueOwnerAWSAccountId != AccountID {
		return nil, errQueueDoesNotExist()
	}
	if s.world.SQS.Queues[in.QueueName] == nil {
		return nil, errQueueDoesNotExist()
	}
	return &queueURLOutput{s.queueURL(c, in.QueueName)}, nil
}

type sqsListQueuesInput struct {
	QueueNamePrefix string
	MaxResults      *int
	NextToken       string
}

type sqsListQueuesOutput struct {
	QueueUrls []string `json:"QueueUrls,omitempty" xml:"QueueUrl"`
	NextToken string   `json:"NextToken,omitempty" xml:",omitempty"`
}

func (s *Server) sqsListQueues(c *Call, in *sqsListQueuesInput) (*sqsListQueuesOutput, error) {
	names := make([]string, 0, len(s.world.SQS.Queues))
	for name := range s.world.SQS.Queues {
		if strings.HasPrefix(name, in.QueueNamePrefix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	start := 0
	if in.NextToken != "" {
		// The token is the last name returned: robust to queues created or
		// deleted between pages.
		last, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil {
			return nil, errInvalidParameterValue("Invalid NextToken value.")
		}
		start = sort.SearchStrings(names, string(last)+"\x00")
	}
	out := sqsListQueuesOutput{}
	end := len(names)
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 1000 {
			return nil, errInvalidParameterValue("Value %d for parameter MaxResults is invalid. Reason: must be between 1 and 1000.", *in.MaxResults)
		}
		if start+*in.MaxResults < end {
			end = start + *in.MaxResults
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(names[end-1]))
		}
	}
	for _, n := range names[start:end] {
		out.QueueUrls = append(out.QueueUrls, s.queueURL(c, n))
	}
	return &out, nil
}

type sqsGetQueueAttributesInput struct {
	QueueUrl       string
	AttributeNames []string `query:"AttributeName"`
}

type sqsGetQueueAttributesOutput struct {
	Attributes sqsAttributes `json:"Attributes,omitempty" xml:"Attribute"`
}

func (s *Server) sqsGetQueueAttributes(c *Call, in *sqsGetQueueAttributesInput) (*sqsGetQueueAttributesOutput, error) {
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	q.expire(now)
	all := map[string]string{}
	for k, v := range q.Attributes {
		all[k] = v
	}
	visible, inflight, delayed := 0, 0, 0
	for _, m := range q.Messages {
		switch {
		case !m.VisibleAt.After(now):
			visible++
		case m.ReceiveCount > 0:
			inflight++
		default:
			delayed++
		}
	}
	all["QueueArn"] = s.queueARN(q.Name)
	all["ApproximateNumberOfMessages"] = strconv.Itoa(visible)
	all["ApproximateNumberOfMessagesNotVisible"] = strconv.Itoa(inflight)
	all["ApproximateNumberOfMessagesDelayed"] = strconv.Itoa(delayed)
	all["CreatedTimestamp"] = strconv.FormatInt(q.Created.Unix(), 10)
	all["LastModifiedTimestamp"] = strconv.FormatInt(q.Modified.Unix(), 10)

	out := map[string]string{}
	for _, name := range in.AttributeNames {
		if name == "All" {
			for k, v := range all {
				if v != "" {
					out[k] = v
				}
			}
			continue
		}
		v, ok := all[name]
		if !ok && !isKnownSQSAttribute(name) {
			return nil, Errorf(400, "InvalidAttributeName", "Unknown Attribute %s.", name)
		}
		if ok && v != "" {
			out[name] = v
		}
	}
	return &sqsGetQueueAttributesOutput{out}, nil
}

func isKnownSQSAttribute(name string) bool {
	if _, ok := sqsAttributeRanges[name]; ok {
		return true
	}
	for _, n := range sqsComputedAttributes {
		if n == name {
			return true
		}
	}
	return sqsFreeAttributes[name]
}

type sqsSetQueueAttributesInput struct {
	QueueUrl   string
	Attributes map[string]string `query:"Attribute"`
}

func (s *Server) sqsSetQueueAttributes(c *Call, in *sqsSetQueueAttributesInput) (*noOutput, error) {
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if len(in.Attributes) == 0 {
		return nil, errMissingParameter("Attributes")
	}
	if err := validateSQSAttributes(in.Attributes); err != nil {
		return nil, err
	}
	for k, v := range in.Attributes {
		if v == "" && (k == "Policy" || k == "RedrivePolicy" || k == "RedriveAllowPolicy" || k == "KmsMasterKeyId") {
			delete(q.Attributes, k)
			continue
		}
		q.Attributes[k] = v
	}
	q.Modified = s.clock.Now()
	return nil, nil
}

type sqsDeleteQueueInput struct{ QueueUrl string }

func (s *Server) sqsDeleteQueue(c *Call, in *sqsDeleteQueueInput) (*noOutput, error) {
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	delete(s.world.SQS.Queues, q.Name)
	s.log.Info("sqs queue deleted", "queue", q.Name)
	return nil, nil
}

type sqsPurgeQueueInput struct{ QueueUrl string }

func (s *Server) sqsPurgeQueue(c *Call, in *sqsPurgeQueueInput) (*noOutput, error) {
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	// AWS allows one purge per queue per minute, and answers another with
	// 403 (the httpStatusCode of the query-protocol model).
	if !q.LastPurge.IsZero() && now.Sub(q.LastPurge) < time.Minute {
		return nil, Errorf(403, "PurgeQueueInProgress", "Only one PurgeQueue operation on %s is allowed every 60 seconds.", q.Name)
	}
	q.LastPurge = now
	q.Messages = nil
	return nil, nil
}
