package awsemu

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// SQS receiving: long polls, receipt handles, deletes and visibility.

type sqsReceiveMessageInput struct {
	QueueUrl                    string
	AttributeNames              []string `query:"AttributeName"`
	MessageSystemAttributeNames []string `query:"MessageSystemAttributeName"`
	MessageAttributeNames       []string `query:"MessageAttributeName"`
	MaxNumberOfMessages         *int
	VisibilityTimeout           *int
	WaitTimeSeconds             *int
}

type sqsReceiveMessageOutput struct {
	Messages []sqsReceivedMessage `json:"Messages,omitempty" xml:"Message"`
}

func (s *Server) sqsReceiveMessage(c *Call, in *sqsReceiveMessageInput) (*sqsReceiveMessageOutput, error) {
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
	out := sqsReceiveMessageOutput{}
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
	return &out, nil
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

type sqsDeleteMessageInput struct {
	QueueUrl      string
	ReceiptHandle string
}

func (s *Server) sqsDeleteMessage(c *Call, in *sqsDeleteMessageInput) (*noOutput, error) {
	q, err := s.queueFromURL(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return nil, q.deleteByHandle(in.ReceiptHandle)
}

type sqsDeleteMessageBatchInput struct {
	QueueUrl string
	Entries  []sqsDeleteBatchEntry `query:"DeleteMessageBatchRequestEntry"`
}

type sqsDeleteBatchEntry struct{ Id, ReceiptHandle string }

func (e sqsDeleteBatchEntry) entryID() string { return e.Id }

type sqsDeleteBatchSuccess struct {
	Id string `json:"Id"`
}

type sqsDeleteMessageBatchOutput struct {
	Successful []sqsDeleteBatchSuccess `json:"Successful" xml:"DeleteMessageBatchResultEntry"`
	Failed     []sqsBatchError         `json:"Failed" xml:"BatchResultErrorEntry"`
}

func (s *Server) sqsDeleteMessageBatch(c *Call, in *sqsDeleteMessageBatchInput) (*sqsDeleteMessageBatchOutput, error) {
	q, err := batchQueue(s, in.QueueUrl, in.Entries)
	if err != nil {
		return nil, err
	}
	out := sqsDeleteMessageBatchOutput{Successful: []sqsDeleteBatchSuccess{}, Failed: []sqsBatchError{}}
	for _, e := range in.Entries {
		if err := q.deleteByHandle(e.ReceiptHandle); err != nil {
			out.Failed = append(out.Failed, batchFailure(e.Id, err))
			continue
		}
		out.Successful = append(out.Successful, sqsDeleteBatchSuccess{e.Id})
	}
	return &out, nil
}

type sqsChangeMessageVisibilityInput struct {
	QueueUrl          string
	ReceiptHandle     string
	VisibilityTimeout *int
}

func (s *Server) sqsChangeMessageVisibility(c *Call, in *sqsChangeMessageVisibilityInput) (*noOutput, error) {
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
