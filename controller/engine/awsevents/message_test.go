package awsevents

import (
	"errors"
	"testing"
	"time"
)

// The bodies below are what test/localcloud/awsemu emits (envelope field
// order and all), which follows AWS's documented examples.
const (
	spotBody      = `{"version":"0","id":"1e5527d7-bb36-4607-3370-4164db56a40e","detail-type":"EC2 Spot Instance Interruption Warning","source":"aws.ec2","account":"123456789012","time":"2026-11-23T05:00:00Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0"],"detail":{"instance-action":"terminate","instance-id":"i-1234567890abcdef0"}}`
	rebalanceBody = `{"version":"0","id":"x","detail-type":"EC2 Instance Rebalance Recommendation","source":"aws.ec2","account":"123456789012","time":"2026-11-23T05:00:00Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890abcdef0"],"detail":{"instance-id":"i-1234567890abcdef0"}}`
	healthBody    = `{"version":"0","id":"h","detail-type":"AWS Health Event","source":"aws.health","account":"123456789012","time":"2026-11-23T05:00:00Z","region":"us-east-1","resources":["i-abcd1111"],"detail":{"eventArn":"arn:aws:health:us-east-1::event/EC2/AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED/x","service":"EC2","eventTypeCode":"AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED","eventTypeCategory":"scheduledChange","startTime":"Mon, 23 Nov 2026 06:00:00 GMT","endTime":"Mon, 23 Nov 2026 07:00:00 GMT","eventDescription":[{"language":"en_US","latestDescription":"retire"}],"affectedEntities":[{"entityValue":"i-abcd1111"},{"entityValue":"i-abcd2222"}]}}`
	stateBody     = `{"version":"0","id":"s","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2026-11-23T05:00:00Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"],"detail":{"instance-id":"i-0abc","state":"%s"}}`
	crBody        = `{"version":"0","id":"c","detail-type":"EC2 Capacity Reservation Instance Interruption Warning","source":"aws.ec2","account":"123456789012","time":"2026-11-23T05:00:00Z","region":"us-east-1","resources":[],"detail":{"instance-id":"i-0def","instance-action":"terminate"}}`
)

var at = time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)

func TestParseSpot(t *testing.T) {
	m, err := Parse([]byte(spotBody))
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != KindSpotInterruption || len(m.InstanceIDs) != 1 || m.InstanceIDs[0] != "i-1234567890abcdef0" ||
		!m.Time.Equal(at) || m.Action != "terminate" || !m.Deadline().Equal(at.Add(2*time.Minute)) {
		t.Errorf("got %+v", m)
	}
}

func TestParseCapacityReservation(t *testing.T) {
	m, err := Parse([]byte(crBody))
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != KindCapacityReservationInterrupted || m.InstanceIDs[0] != "i-0def" || !m.Deadline().Equal(at.Add(2*time.Minute)) {
		t.Errorf("got %+v", m)
	}
}

func TestParseRebalance(t *testing.T) {
	m, err := Parse([]byte(rebalanceBody))
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != KindRebalanceRecommendation || m.InstanceIDs[0] != "i-1234567890abcdef0" || !m.Deadline().IsZero() {
		t.Errorf("got %+v", m)
	}
}

func TestParseHealth(t *testing.T) {
	m, err := Parse([]byte(healthBody))
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != KindScheduledChange || len(m.InstanceIDs) != 2 || m.InstanceIDs[1] != "i-abcd2222" ||
		!m.StartTime.Equal(at.Add(time.Hour)) || !m.Deadline().Equal(at.Add(time.Hour)) {
		t.Errorf("got %+v", m)
	}
	// A Health issue (not a scheduled change) is well-formed and asks nothing.
	m, err = Parse([]byte(`{"source":"aws.health","detail-type":"AWS Health Event","time":"2026-11-23T05:00:00Z","detail":{"service":"EC2","eventTypeCategory":"issue"}}`))
	if err != nil || m.Kind != KindNoOp {
		t.Errorf("health issue: %+v, %v", m, err)
	}
}

func TestParseStateChange(t *testing.T) {
	for state, want := range map[string]Kind{"stopping": KindStateChange, "stopped": KindStateChange, "shutting-down": KindStateChange,
		"terminated": KindStateChange, "running": KindNoOp, "pending": KindNoOp} {
		m, err := Parse([]byte(sprintf(stateBody, state)))
		if err != nil {
			t.Fatalf("%s: %v", state, err)
		}
		if m.Kind != want || m.State != state || m.InstanceIDs[0] != "i-0abc" {
			t.Errorf("%s: got %+v, want kind %s", state, m, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for name, body := range map[string]string{
		"not json":          `{"source":`,
		"unknown":           `{"source":"aws.s3","detail-type":"Object Created","time":"2026-11-23T05:00:00Z","detail":{}}`,
		"no time":           `{"source":"aws.ec2","detail-type":"EC2 Spot Instance Interruption Warning","detail":{"instance-id":"i-0abc"}}`,
		"no detail":         `{"source":"aws.ec2","detail-type":"EC2 Spot Instance Interruption Warning","time":"2026-11-23T05:00:00Z"}`,
		"bad instance":      `{"source":"aws.ec2","detail-type":"EC2 Spot Instance Interruption Warning","time":"2026-11-23T05:00:00Z","detail":{"instance-id":"../etc"}}`,
		"detail not object": `{"source":"aws.ec2","detail-type":"EC2 Instance Rebalance Recommendation","time":"2026-11-23T05:00:00Z","detail":[1]}`,
		"no state":          `{"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","time":"2026-11-23T05:00:00Z","detail":{"instance-id":"i-0abc"}}`,
		"health no entity":  `{"source":"aws.health","detail-type":"AWS Health Event","time":"2026-11-23T05:00:00Z","detail":{"service":"EC2","eventTypeCategory":"scheduledChange","startTime":"Mon, 23 Nov 2026 06:00:00 GMT"}}`,
		"health bad start":  `{"source":"aws.health","detail-type":"AWS Health Event","time":"2026-11-23T05:00:00Z","detail":{"service":"EC2","eventTypeCategory":"scheduledChange","startTime":"soon","affectedEntities":[{"entityValue":"i-0abc"}]}}`,
	} {
		m, err := Parse([]byte(body))
		if err == nil || !IsParseError(err) {
			t.Errorf("%s: got %+v, %v; want a ParseError", name, m, err)
		}
		if name == "unknown" && !errors.Is(err, ErrUnknownEvent) {
			t.Errorf("unknown: %v does not wrap ErrUnknownEvent", err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{spotBody, rebalanceBody, healthBody, crBody, sprintf(stateBody, "terminated"), "", "null", "{}", `{"detail":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Parse(body)
		if err != nil {
			if !IsParseError(err) {
				t.Fatalf("error %v is not a ParseError", err)
			}
			return
		}
		if m.Kind != KindNoOp && len(m.InstanceIDs) == 0 {
			t.Fatalf("actionable message without instances: %+v", m)
		}
		for _, id := range m.InstanceIDs {
			if !validInstanceID(id) {
				t.Fatalf("invalid instance id %q accepted", id)
			}
		}
	})
}
