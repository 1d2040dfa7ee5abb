package awsemu

import (
	"encoding/json"
	"strings"
	"time"
)

// EventBridge PutEvents: custom events matched against the rules.

type eventsPutEventsInput struct {
	Entries []struct {
		Time         *float64
		Source       string
		Resources    []string
		DetailType   string
		Detail       string
		EventBusName string
	}
}

type eventsPutEventsOutput struct {
	FailedEntryCount int                    `json:"FailedEntryCount"`
	Entries          []putEventsResultEntry `json:"Entries"`
}

func (s *Server) eventsPutEvents(c *Call, in *eventsPutEventsInput) (*eventsPutEventsOutput, error) {
	if len(in.Entries) < 1 || len(in.Entries) > 10 {
		return nil, errValidation("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10")
	}
	out := eventsPutEventsOutput{Entries: []putEventsResultEntry{}}
	for _, e := range in.Entries {
		fail := func(code, msg string) {
			out.Entries = append(out.Entries, putEventsResultEntry{ErrorCode: code, ErrorMessage: msg})
			out.FailedEntryCount++
		}
		switch {
		case e.Source == "":
			fail("InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")
			continue
		case e.DetailType == "":
			fail("InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument.")
			continue
		case e.Detail == "":
			fail("InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.")
			continue
		case strings.HasPrefix(e.Source, "aws."):
			// Only AWS services may publish aws.* events.
			fail("NotAuthorizedForSourceException", "Not authorized for the source.")
			continue
		case s.checkBus(e.EventBusName) != nil:
			fail("InvalidArgument", "Event bus "+e.EventBusName+" does not exist.")
			continue
		}
		var detail map[string]any
		if err := json.Unmarshal([]byte(e.Detail), &detail); err != nil || detail == nil {
			fail("MalformedDetail", "Detail is malformed.")
			continue
		}
		var at time.Time
		if e.Time != nil {
			sec := int64(*e.Time)
			at = time.Unix(sec, int64((*e.Time-float64(sec))*1e9))
		}
		id, err := s.publishLocked(e.Source, e.DetailType, json.RawMessage(e.Detail), e.Resources, at)
		if err != nil {
			fail("InternalFailure", err.Error())
			continue
		}
		out.Entries = append(out.Entries, putEventsResultEntry{EventId: id})
	}
	return &out, nil
}
