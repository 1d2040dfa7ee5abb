package awsemu

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SQS messages: send, receive, delete and visibility, with their attributes
// and receipt handles.

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
	MD5OfMessageAttributes string `json:"MD5OfMessageAttributes,omitempty" xml:",omitempty"`
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

type sqsSendMessageInput struct {
	QueueUrl          string
	MessageBody       string
	DelaySeconds      *int
	MessageAttributes map[string]SQSMessageAttribute `query:"MessageAttribute"`
}

func (s *Server) sqsSendMessage(c *Call, in *sqsSendMessageInput) (*sqsSendResult, error) {
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
	return &sqsSendResult{MessageId: m.ID, MD5OfMessageBody: m.MD5OfBody, MD5OfMessageAttributes: m.MD5OfAttributes}, nil
}

type sqsBatchError struct {
	Id          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message"`
}

// batchQueue is the preamble of every SQS batch action: the queue, and
// SQS's batch rules checked on the entries' ids.
func batchQueue[E interface{ entryID() string }](s *Server, queueURL string, entries []E) (*Queue, error) {
	q, err := s.queueFromURL(queueURL)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.entryID()
	}
	if err := checkBatchIDs(ids); err != nil {
		return nil, err
	}
	return q, nil
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

type sqsSendMessageBatchInput struct {
	QueueUrl string
	Entries  []sqsSendBatchEntry `query:"SendMessageBatchRequestEntry"`
}

type sqsSendBatchEntry struct {
	Id                string
	MessageBody       string
	DelaySeconds      *int
	MessageAttributes map[string]SQSMessageAttribute `query:"MessageAttribute"`
}

func (e sqsSendBatchEntry) entryID() string { return e.Id }

type sqsSendBatchSuccess struct {
	Id string `json:"Id"`
	sqsSendResult
}

type sqsSendMessageBatchOutput struct {
	Successful []sqsSendBatchSuccess `json:"Successful" xml:"SendMessageBatchResultEntry"`
	Failed     []sqsBatchError       `json:"Failed" xml:"BatchResultErrorEntry"`
}

func (s *Server) sqsSendMessageBatch(c *Call, in *sqsSendMessageBatchInput) (*sqsSendMessageBatchOutput, error) {
	q, err := batchQueue(s, in.QueueUrl, in.Entries)
	if err != nil {
		return nil, err
	}
	out := sqsSendMessageBatchOutput{Successful: []sqsSendBatchSuccess{}, Failed: []sqsBatchError{}}
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
		out.Successful = append(out.Successful, sqsSendBatchSuccess{e.Id, sqsSendResult{m.ID, m.MD5OfBody, m.MD5OfAttributes}})
	}
	return &out, nil
}

type sqsReceivedMessage struct {
	MessageId              string               `json:"MessageId"`
	ReceiptHandle          string               `json:"ReceiptHandle"`
	MD5OfBody              string               `json:"MD5OfBody"`
	Body                   string               `json:"Body"`
	Attributes             sqsAttributes        `json:"Attributes,omitempty" xml:"Attribute"`
	MD5OfMessageAttributes string               `json:"MD5OfMessageAttributes,omitempty" xml:",omitempty"`
	MessageAttributes      sqsMessageAttributes `json:"MessageAttributes,omitempty" xml:"MessageAttribute"`
}

var sqsSystemAttributes = []string{"ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SentTimestamp", "SenderId"}
