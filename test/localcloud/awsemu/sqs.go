package awsemu

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// SQSMessageAttribute is a message attribute as SQS takes and returns it.
type SQSMessageAttribute struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

func newSQSState(w *World) *SQSState { return &SQSState{Queues: map[string]*Queue{}} }

// sqsQueryErrorCode maps SQS's JSON error shape names to the legacy query
// codes it also sends in x-amzn-query-error. The SDK keeps the typed error
// (types.QueueDoesNotExist) but reports the legacy code from ErrorCode(),
// exactly as against AWS.
func sqsQueryErrorCode(code string) string {
	switch code {
	case "QueueDoesNotExist":
		return "AWS.SimpleQueueService.NonExistentQueue"
	case "QueueNameExists":
		return "QueueAlreadyExists"
	case "PurgeQueueInProgress", "QueueDeletedRecently", "TooManyEntriesInBatchRequest", "EmptyBatchRequest",
		"BatchEntryIdsNotDistinct", "InvalidBatchEntryId", "MessageNotInflight", "UnsupportedOperation", "BatchRequestTooLong":
		return "AWS.SimpleQueueService." + code
	}
	return code
}

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
	s.register("sqs", "CreateQueue", protoJSON10, true, s.sqsCreateQueue)
	s.register("sqs", "GetQueueUrl", protoJSON10, false, s.sqsGetQueueURL)
	s.register("sqs", "ListQueues", protoJSON10, false, s.sqsListQueues)
	s.register("sqs", "GetQueueAttributes", protoJSON10, false, s.sqsGetQueueAttributes)
	s.register("sqs", "SetQueueAttributes", protoJSON10, true, s.sqsSetQueueAttributes)
	s.register("sqs", "DeleteQueue", protoJSON10, true, s.sqsDeleteQueue)
	s.register("sqs", "PurgeQueue", protoJSON10, true, s.sqsPurgeQueue)
	s.register("sqs", "SendMessage", protoJSON10, true, s.sqsSendMessage)
	s.register("sqs", "SendMessageBatch", protoJSON10, true, s.sqsSendMessageBatch)
	s.register("sqs", "ReceiveMessage", protoJSON10, true, s.sqsReceiveMessage)
	s.register("sqs", "DeleteMessage", protoJSON10, true, s.sqsDeleteMessage)
	s.register("sqs", "DeleteMessageBatch", protoJSON10, true, s.sqsDeleteMessageBatch)
	s.register("sqs", "ChangeMessageVisibility", protoJSON10, true, s.sqsChangeMessageVisibility)
	s.register("sqs", "TagQueue", protoJSON10, true, s.sqsTagQueue)
	s.register("sqs", "UntagQueue", protoJSON10, true, s.sqsUntagQueue)
	s.register("sqs", "ListQueueTags", protoJSON10, false, s.sqsListQueueTags)
}

type queueURLOutput struct {
	QueueUrl string `json:"QueueUrl"`
}

func (s *Server) sqsCreateQueue(c *Call) (any, error) {
	var in struct {
		QueueName  string
		Attributes map[string]string
		Tags       map[string]string `json:"tags"`
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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
		return queueURLOutput{s.queueURL(c, q.Name)}, nil
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
	return queueURLOutput{s.queueURL(c, q.Name)}, nil
}

func (s *Server) sqsGetQueueURL(c *Call) (any, error) {
	var in struct {
		QueueName              string
		QueueOwnerAWSAccountId string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if in.QueueName == "" {
		return nil, errMissingParameter("QueueName")
	}
	if in.QueueOwnerAWSAccountId != "" && in.QueueOwnerAWSAccountId != AccountID {
		return nil, errQueueDoesNotExist()
	}
	if s.world.SQS.Queues[in.QueueName] == nil {
		return nil, errQueueDoesNotExist()
	}
	return queueURLOutput{s.queueURL(c, in.QueueName)}, nil
}

func (s *Server) sqsListQueues(c *Call) (any, error) {
	var in struct {
		QueueNamePrefix string
		MaxResults      *int
		NextToken       string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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
	out := struct {
		QueueUrls []string `json:"QueueUrls,omitempty"`
		NextToken string   `json:"NextToken,omitempty"`
	}{}
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
	return out, nil
}

func (s *Server) sqsGetQueueAttributes(c *Call) (any, error) {
	var in struct {
		QueueUrl       string
		AttributeNames []string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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
	return struct {
		Attributes map[string]string `json:"Attributes,omitempty"`
	}{out}, nil
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

func (s *Server) sqsSetQueueAttributes(c *Call) (any, error) {
	var in struct {
		QueueUrl   string
		Attributes map[string]string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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

func (s *Server) sqsDeleteQueue(c *Call) (any, error) {
	var in struct{ QueueUrl string }
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	delete(s.world.SQS.Queues, q.Name)
	s.log.Info("sqs queue deleted", "queue", q.Name)
	return nil, nil
}

func (s *Server) sqsPurgeQueue(c *Call) (any, error) {
	var in struct{ QueueUrl string }
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	// AWS allows one purge per queue per minute.
	if !q.LastPurge.IsZero() && now.Sub(q.LastPurge) < time.Minute {
		return nil, Errorf(400, "PurgeQueueInProgress", "Only one PurgeQueue operation on %s is allowed every 60 seconds.", q.Name)
	}
	q.LastPurge = now
	q.Messages = nil
	return nil, nil
}

// sqsAttributesMD5 is SQS's digest of message attributes: sorted by name,
// each of name, data type and value length-prefixed, with a transport byte
// (1 string, 2 binary) before the value.
func sqsAttributesMD5(attrs map[string]SQSMessageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	put := func(b []byte) {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(b)))
		h.Write(l[:])
		h.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		put([]byte(n))
		put([]byte(a.DataType))
		if a.BinaryValue != nil || strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			put(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			put([]byte(derefString(a.StringValue)))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func validateMessageAttributes(attrs map[string]SQSMessageAttribute) error {
	if len(attrs) > 10 {
		return errInvalidParameterValue("Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	for name, a := range attrs {
		base, _, _ := strings.Cut(a.DataType, ".")
		switch base {
		case "String", "Number":
			if a.StringValue == nil {
				return errInvalidParameterValue("Message (user) attribute '%s' must contain a non-empty value of type '%s'.", name, base)
			}
			if base == "Number" {
				if _, err := strconv.ParseFloat(*a.StringValue, 64); err != nil {
					return errInvalidParameterValue("Can't cast the value of message (user) attribute '%s' to a number.", name)
				}
			}
		case "Binary":
			if a.BinaryValue == nil {
				return errInvalidParameterValue("Message (user) attribute '%s' must contain a non-empty value of type 'Binary'.", name)
			}
		default:
			return errInvalidParameterValue("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
		}
	}
	return nil
}

type sqsSendResult struct {
	MessageId              string `json:"MessageId"`
	MD5OfMessageBody       string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes string `json:"MD5OfMessageAttributes,omitempty"`
}

// sqsSendLocked validates and enqueues one message; delay < 0 takes the queue's DelaySeconds.
func (s *Server) sqsSendLocked(q *Queue, body string, attrs map[string]SQSMessageAttribute, delay int, sender string) (*SQSMessage, error) {
	if body == "" {
		return nil, errMissingParameter("MessageBody")
	}
	if max := q.intAttr("MaximumMessageSize"); len(body) > max {
		return nil, errInvalidParameterValue("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", max)
	}
	if delay < 0 {
		delay = q.intAttr("DelaySeconds")
	} else if delay > 900 {
		return nil, errInvalidParameterValue("Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", delay)
	}
	if err := validateMessageAttributes(attrs); err != nil {
		return nil, err
	}
	sum := md5.Sum([]byte(body))
	now := s.clock.Now()
	m := &SQSMessage{
		ID: newUUID(), Body: body, MD5OfBody: hex.EncodeToString(sum[:]), MD5OfAttributes: sqsAttributesMD5(attrs),
		MessageAttributes: attrs, SenderID: sender, SentAt: now, VisibleAt: now.Add(time.Duration(delay) * time.Second),
	}
	q.Messages = append(q.Messages, m)
	return m, nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// The sender id SQS reports for calls made with the emulator's credentials.
const sqsSenderID = "AIDALOCALCLOUDSENDER"

func (s *Server) sqsSendMessage(c *Call) (any, error) {
	var in struct {
		QueueUrl          string
		MessageBody       string
		DelaySeconds      *int
		MessageAttributes map[string]SQSMessageAttribute
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	delay := -1
	if in.DelaySeconds != nil {
		if *in.DelaySeconds < 0 {
			return nil, errInvalidParameterValue("Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", *in.DelaySeconds)
		}
		delay = *in.DelaySeconds
	}
	m, err := s.sqsSendLocked(q, in.MessageBody, in.MessageAttributes, delay, sqsSenderID)
	if err != nil {
		return nil, err
	}
	return sqsSendResult{MessageId: m.ID, MD5OfMessageBody: m.MD5OfBody, MD5OfMessageAttributes: m.MD5OfAttributes}, nil
}

type sqsBatchError struct {
	Id          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message"`
}

// checkBatchIDs enforces SQS's batch rules: 1..10 entries with distinct, well-formed ids.
func checkBatchIDs(ids []string) error {
	if len(ids) == 0 {
		return Errorf(400, "EmptyBatchRequest", "There should be at least one entry in the request.")
	}
	if len(ids) > 10 {
		return Errorf(400, "TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10. You have sent %d.", len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !sqsBatchID.MatchString(id) {
			return Errorf(400, "InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return Errorf(400, "BatchEntryIdsNotDistinct", "Id %s repeated.", id)
		}
		seen[id] = true
	}
	return nil
}

var sqsBatchID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

func batchFailure(id string, err error) sqsBatchError {
	e, ok := err.(*Error)
	if !ok {
		return sqsBatchError{Id: id, Code: "InternalError", Message: err.Error()}
	}
	return sqsBatchError{Id: id, SenderFault: !e.Server, Code: e.Code, Message: e.Message}
}

func (s *Server) sqsSendMessageBatch(c *Call) (any, error) {
	var in struct {
		QueueUrl string
		Entries  []struct {
			Id                string
			MessageBody       string
			DelaySeconds      *int
			MessageAttributes map[string]SQSMessageAttribute
		}
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatchIDs(ids); err != nil {
		return nil, err
	}
	type success struct {
		Id string `json:"Id"`
		sqsSendResult
	}
	out := struct {
		Successful []success       `json:"Successful"`
		Failed     []sqsBatchError `json:"Failed"`
	}{Successful: []success{}, Failed: []sqsBatchError{}}
	for _, e := range in.Entries {
		delay := -1
		if e.DelaySeconds != nil {
			delay = *e.DelaySeconds
		}
		if delay < -1 {
			out.Failed = append(out.Failed, batchFailure(e.Id, errInvalidParameterValue("DelaySeconds must be >= 0 and <= 900.")))
			continue
		}
		m, err := s.sqsSendLocked(q, e.MessageBody, e.MessageAttributes, delay, sqsSenderID)
		if err != nil {
			out.Failed = append(out.Failed, batchFailure(e.Id, err))
			continue
		}
		out.Successful = append(out.Successful, success{e.Id, sqsSendResult{m.ID, m.MD5OfBody, m.MD5OfAttributes}})
	}
	return out, nil
}

type sqsReceivedMessage struct {
	MessageId              string                         `json:"MessageId"`
	ReceiptHandle          string                         `json:"ReceiptHandle"`
	MD5OfBody              string                         `json:"MD5OfBody"`
	Body                   string                         `json:"Body"`
	Attributes             map[string]string              `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                         `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]SQSMessageAttribute `json:"MessageAttributes,omitempty"`
}

var sqsSystemAttributes = []string{"ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SentTimestamp", "SenderId"}

func (s *Server) sqsReceiveMessage(c *Call) (any, error) {
	var in struct {
		QueueUrl                    string
		AttributeNames              []string
		MessageSystemAttributeNames []string
		MessageAttributeNames       []string
		MaxNumberOfMessages         *int
		VisibilityTimeout           *int
		WaitTimeSeconds             *int
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	max := 1
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
		if max < 1 || max > 10 {
			return nil, errInvalidParameterValue("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", max)
		}
	}
	visibility := -1
	if in.VisibilityTimeout != nil {
		visibility = *in.VisibilityTimeout
		if visibility < 0 || visibility > 43200 {
			return nil, errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", visibility)
		}
	}
	wait := q.intAttr("ReceiveMessageWaitTimeSeconds")
	if in.WaitTimeSeconds != nil {
		wait = *in.WaitTimeSeconds
		if wait < 0 || wait > 20 {
			return nil, errInvalidParameterValue("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", wait)
		}
	}
	systemNames := map[string]bool{}
	for _, n := range append(in.AttributeNames, in.MessageSystemAttributeNames...) {
		if n == "All" {
			for _, a := range sqsSystemAttributes {
				systemNames[a] = true
			}
			continue
		}
		systemNames[n] = true
	}

	name := q.Name
	deadline := s.clock.Now().Add(time.Duration(wait) * time.Second)
	var got []*SQSMessage
	for {
		// The queue may be deleted while a long poll waits.
		if q = s.world.SQS.Queues[name]; q == nil {
			return nil, errQueueDoesNotExist()
		}
		now := s.clock.Now()
		q.expire(now)
		for _, m := range q.Messages {
			if len(got) == max {
				break
			}
			if !m.VisibleAt.After(now) {
				got = append(got, m)
			}
		}
		if len(got) > 0 || !now.Before(deadline) || s.stopping() {
			break
		}
		s.waitLocked(deadline)
	}

	now := s.clock.Now()
	timeout := visibility
	if timeout < 0 {
		timeout = q.intAttr("VisibilityTimeout")
	}
	out := struct {
		Messages []sqsReceivedMessage `json:"Messages,omitempty"`
	}{}
	for _, m := range got {
		m.ReceiveCount++
		if m.FirstReceiveAt.IsZero() {
			m.FirstReceiveAt = now
		}
		m.VisibleAt = now.Add(time.Duration(timeout) * time.Second)
		m.ReceiptHandle = newReceiptHandle(q.Name, m.ID)
		r := sqsReceivedMessage{MessageId: m.ID, ReceiptHandle: m.ReceiptHandle, MD5OfBody: m.MD5OfBody, Body: m.Body}
		attrs := map[string]string{
			"ApproximateReceiveCount":          strconv.Itoa(m.ReceiveCount),
			"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.FirstReceiveAt.UnixMilli(), 10),
			"SentTimestamp":                    strconv.FormatInt(m.SentAt.UnixMilli(), 10),
			"SenderId":                         m.SenderID,
		}
		for n := range systemNames {
			if v, ok := attrs[n]; ok && v != "" {
				if r.Attributes == nil {
					r.Attributes = map[string]string{}
				}
				r.Attributes[n] = v
			}
		}
		for n, v := range m.MessageAttributes {
			if wantMessageAttribute(in.MessageAttributeNames, n) {
				if r.MessageAttributes == nil {
					r.MessageAttributes = map[string]SQSMessageAttribute{}
				}
				r.MessageAttributes[n] = v
			}
		}
		if r.MessageAttributes != nil {
			r.MD5OfMessageAttributes = sqsAttributesMD5(r.MessageAttributes)
		}
		out.Messages = append(out.Messages, r)
	}
	return out, nil
}

func (s *Server) stopping() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

func wantMessageAttribute(patterns []string, name string) bool {
	for _, p := range patterns {
		if p == "All" || p == ".*" || p == name {
			return true
		}
		if prefix, ok := strings.CutSuffix(p, ".*"); ok && strings.HasPrefix(name, prefix+".") {
			return true
		}
	}
	return false
}

// Receipt handles name the queue and message plus a nonce, so each receive
// yields a new handle and garbage is recognisable.
func newReceiptHandle(queue, msgID string) string {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	return base64.StdEncoding.EncodeToString([]byte("lc1|" + queue + "|" + msgID + "|" + hex.EncodeToString(nonce[:])))
}

func parseReceiptHandle(h string) (queue, msgID string, err error) {
	raw, decErr := base64.StdEncoding.DecodeString(h)
	parts := strings.Split(string(raw), "|")
	if decErr != nil || len(parts) != 4 || parts[0] != "lc1" {
		return "", "", Errorf(400, "ReceiptHandleIsInvalid", "The input receipt handle \"%s\" is not a valid receipt handle.", h)
	}
	return parts[1], parts[2], nil
}

// deleteByHandle removes the message a handle names. A handle from an
// earlier receive of the same message still deletes it, and a handle of a
// message already gone succeeds, as on AWS standard queues.
func (q *Queue) deleteByHandle(handle string) error {
	if handle == "" {
		return errMissingParameter("ReceiptHandle")
	}
	queue, id, err := parseReceiptHandle(handle)
	if err != nil {
		return err
	}
	if queue != q.Name {
		return Errorf(400, "ReceiptHandleIsInvalid", "The receipt handle \"%s\" is not valid for this queue.", handle)
	}
	for i, m := range q.Messages {
		if m.ID == id {
			q.Messages = append(q.Messages[:i], q.Messages[i+1:]...)
			break
		}
	}
	return nil
}

func (s *Server) sqsDeleteMessage(c *Call) (any, error) {
	var in struct {
		QueueUrl      string
		ReceiptHandle string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return nil, q.deleteByHandle(in.ReceiptHandle)
}

func (s *Server) sqsDeleteMessageBatch(c *Call) (any, error) {
	var in struct {
		QueueUrl string
		Entries  []struct{ Id, ReceiptHandle string }
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatchIDs(ids); err != nil {
		return nil, err
	}
	type success struct {
		Id string `json:"Id"`
	}
	out := struct {
		Successful []success       `json:"Successful"`
		Failed     []sqsBatchError `json:"Failed"`
	}{Successful: []success{}, Failed: []sqsBatchError{}}
	for _, e := range in.Entries {
		if err := q.deleteByHandle(e.ReceiptHandle); err != nil {
			out.Failed = append(out.Failed, batchFailure(e.Id, err))
			continue
		}
		out.Successful = append(out.Successful, success{e.Id})
	}
	return out, nil
}

func (s *Server) sqsChangeMessageVisibility(c *Call) (any, error) {
	var in struct {
		QueueUrl          string
		ReceiptHandle     string
		VisibilityTimeout *int
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if in.VisibilityTimeout == nil {
		return nil, errMissingParameter("VisibilityTimeout")
	}
	if v := *in.VisibilityTimeout; v < 0 || v > 43200 {
		return nil, errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", v)
	}
	if in.ReceiptHandle == "" {
		return nil, errMissingParameter("ReceiptHandle")
	}
	queue, id, err := parseReceiptHandle(in.ReceiptHandle)
	if err != nil {
		return nil, err
	}
	if queue != q.Name {
		return nil, Errorf(400, "ReceiptHandleIsInvalid", "The receipt handle \"%s\" is not valid for this queue.", in.ReceiptHandle)
	}
	now := s.clock.Now()
	for _, m := range q.Messages {
		if m.ID == id && m.ReceiveCount > 0 && m.VisibleAt.After(now) {
			m.VisibleAt = now.Add(time.Duration(*in.VisibilityTimeout) * time.Second)
			return nil, nil
		}
	}
	return nil, Errorf(400, "MessageNotInflight", "Message does not exist or is not available for visibility timeout change.")
}

func (s *Server) sqsTagQueue(c *Call) (any, error) {
	var in struct {
		QueueUrl string
		Tags     map[string]string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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

func (s *Server) sqsUntagQueue(c *Call) (any, error) {
	var in struct {
		QueueUrl string
		TagKeys  []string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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

func (s *Server) sqsListQueueTags(c *Call) (any, error) {
	var in struct{ QueueUrl string }
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return struct {
		Tags map[string]string `json:"Tags,omitempty"`
	}{q.Tags}, nil
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
