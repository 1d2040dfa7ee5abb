// Package awsevents reads the EventBridge events that warn nodewright an
// instance is going away (spot interruption, rebalance recommendation, AWS
// Health scheduled change, state change, capacity reservation interruption)
// into typed messages. It is pure: no AWS or Kubernetes client.
package awsevents

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Kind is what an event says is happening to its instances.
type Kind string

// Kinds of message, named as the metrics label them.
const (
	KindSpotInterruption               Kind = "spot_interruption"
	KindRebalanceRecommendation        Kind = "rebalance_recommendation"
	KindScheduledChange                Kind = "scheduled_change"
	KindStateChange                    Kind = "state_change"
	KindCapacityReservationInterrupted Kind = "capacity_reservation_interruption"
	// KindNoOp is a well-formed event that asks for nothing, such as a
	// state change to running.
	KindNoOp Kind = "noop"
)

// SpotWarning is the lead time AWS gives between a spot interruption (or
// capacity reservation interruption) warning and the instance's end.
const SpotWarning = 2 * time.Minute

// Message is one parsed event.
type Message struct {
	Kind Kind
	// ID is EventBridge's event id, for logs.
	ID string
	// InstanceIDs are the EC2 instances the event is about.
	InstanceIDs []string
	// Time is when AWS emitted the event.
	Time time.Time
	// StartTime is when a scheduled change begins (KindScheduledChange).
	StartTime time.Time
	// State is the new instance state (KindStateChange).
	State string
	// Action is the spot instance-action: terminate, stop or hibernate.
	Action string
	// Source and DetailType are the envelope's, for logs.
	Source, DetailType string
}

// Deadline is when the instance is expected to go: the warning's end for
// spot and capacity-reservation interruptions, the start of a scheduled
// change, and zero when the event gives none.
func (m *Message) Deadline() time.Time {
	switch m.Kind {
	case KindSpotInterruption, KindCapacityReservationInterrupted:
		return m.Time.Add(SpotWarning)
	case KindScheduledChange:
		return m.StartTime
	}
	return time.Time{}
}

// ParseError says a body is not an event nodewright understands: not JSON,
// an unknown source and detail-type, or a known event missing its fields.
// Such a message is dropped, never retried.
type ParseError struct {
	Source, DetailType string
	Err                error
}

func (e *ParseError) Error() string {
	if e.Source == "" && e.DetailType == "" {
		return fmt.Sprintf("interruption message: %v", e.Err)
	}
	return fmt.Sprintf("interruption message %s/%q: %v", e.Source, e.DetailType, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrUnknownEvent is wrapped by the ParseError of an event no parser claims.
var ErrUnknownEvent = errors.New("unknown event")

// IsParseError reports whether err is, or wraps, a *ParseError.
func IsParseError(err error) bool {
	var e *ParseError
	return errors.As(err, &e)
}

// envelope is the part of an EventBridge event every parser reads.
type envelope struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       string          `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

type parser func(env *envelope, m *Message) error

// parsers by source and detail-type.
var parsers = map[[2]string]parser{
	{"aws.ec2", "EC2 Spot Instance Interruption Warning"}:                 parseInstanceAction(KindSpotInterruption),
	{"aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"}: parseInstanceAction(KindCapacityReservationInterrupted),
	{"aws.ec2", "EC2 Instance Rebalance Recommendation"}:                  parseRebalance,
	{"aws.ec2", "EC2 Instance State-change Notification"}:                 parseStateChange,
	{"aws.health", "AWS Health Event"}:                                    parseHealth,
}

// Parse reads one SQS message body. Every failure is a *ParseError.
func Parse(body []byte) (*Message, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, &ParseError{Err: fmt.Errorf("not an EventBridge event: %w", err)}
	}
	p, ok := parsers[[2]string{env.Source, env.DetailType}]
	if !ok {
		return nil, &ParseError{Source: env.Source, DetailType: env.DetailType, Err: ErrUnknownEvent}
	}
	t, err := time.Parse(time.RFC3339, env.Time)
	if err != nil {
		return nil, &ParseError{Source: env.Source, DetailType: env.DetailType, Err: fmt.Errorf("time %q: %w", env.Time, err)}
	}
	m := &Message{ID: env.ID, Time: t, Source: env.Source, DetailType: env.DetailType}
	if len(env.Detail) == 0 || string(env.Detail) == "null" {
		return nil, &ParseError{Source: env.Source, DetailType: env.DetailType, Err: errors.New("no detail")}
	}
	if err := p(&env, m); err != nil {
		return nil, &ParseError{Source: env.Source, DetailType: env.DetailType, Err: err}
	}
	return m, nil
}

// validInstanceID accepts EC2's i-<hex> ids, so a bad event can never make
// the field index match something it shouldn't.
func validInstanceID(id string) bool {
	if !strings.HasPrefix(id, "i-") || len(id) < 3 || len(id) > 32 {
		return false
	}
	for _, r := range id[2:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

func parseInstanceAction(kind Kind) parser {
	return func(env *envelope, m *Message) error {
		var d struct {
			InstanceID     string `json:"instance-id"`
			InstanceAction string `json:"instance-action"`
		}
		if err := json.Unmarshal(env.Detail, &d); err != nil {
			return fmt.Errorf("detail: %w", err)
		}
		if !validInstanceID(d.InstanceID) {
			return fmt.Errorf("detail.instance-id %q is not an instance id", d.InstanceID)
		}
		m.Kind, m.InstanceIDs, m.Action = kind, []string{d.InstanceID}, d.InstanceAction
		return nil
	}
}

func parseRebalance(env *envelope, m *Message) error {
	var d struct {
		InstanceID string `json:"instance-id"`
	}
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return fmt.Errorf("detail: %w", err)
	}
	if !validInstanceID(d.InstanceID) {
		return fmt.Errorf("detail.instance-id %q is not an instance id", d.InstanceID)
	}
	m.Kind, m.InstanceIDs = KindRebalanceRecommendation, []string{d.InstanceID}
	return nil
}

// actionableStates are the states in which the instance's node will not
// come back: its pods must go elsewhere now.
var actionableStates = map[string]bool{"stopping": true, "stopped": true, "shutting-down": true, "terminated": true}

func parseStateChange(env *envelope, m *Message) error {
	var d struct {
		InstanceID string `json:"instance-id"`
		State      string `json:"state"`
	}
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return fmt.Errorf("detail: %w", err)
	}
	if !validInstanceID(d.InstanceID) {
		return fmt.Errorf("detail.instance-id %q is not an instance id", d.InstanceID)
	}
	if d.State == "" {
		return errors.New("detail.state is empty")
	}
	m.InstanceIDs, m.State = []string{d.InstanceID}, d.State
	m.Kind = KindNoOp
	if actionableStates[d.State] {
		m.Kind = KindStateChange
	}
	return nil
}

// healthTime reads AWS Health's times, RFC 1123 ("Sat, 05 Jun 2016
// 15:10:09 GMT") as AWS documents them, or RFC 3339.
func healthTime(s string) (time.Time, error) {
	if t, err := time.Parse(http.TimeFormat, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC1123, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

func parseHealth(env *envelope, m *Message) error {
	var d struct {
		Service           string `json:"service"`
		EventTypeCategory string `json:"eventTypeCategory"`
		EventTypeCode     string `json:"eventTypeCode"`
		StartTime         string `json:"startTime"`
		AffectedEntities  []struct {
			EntityValue string `json:"entityValue"`
		} `json:"affectedEntities"`
	}
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return fmt.Errorf("detail: %w", err)
	}
	if d.Service != "EC2" || d.EventTypeCategory != "scheduledChange" {
		// Other Health events (issues, account notifications) ask nothing of us.
		m.Kind = KindNoOp
		return nil
	}
	start, err := healthTime(d.StartTime)
	if err != nil {
		return fmt.Errorf("detail.startTime %q: %w", d.StartTime, err)
	}
	for _, e := range d.AffectedEntities {
		if validInstanceID(e.EntityValue) {
			m.InstanceIDs = append(m.InstanceIDs, e.EntityValue)
		}
	}
	if len(m.InstanceIDs) == 0 {
		return errors.New("detail.affectedEntities names no instance")
	}
	m.Kind, m.StartTime = KindScheduledChange, start
	return nil
}
