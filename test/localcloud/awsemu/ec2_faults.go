package awsemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

func init() {
	adminRoutes["POST faults/spot-interruption"] = adminSpotInterruption
	adminRoutes["POST faults/rebalance"] = adminRebalance
	adminRoutes["POST faults/scheduled-change"] = adminScheduledChange
	adminRoutes["POST faults/scheduled-event"] = adminScheduledEvent
	adminRoutes["POST faults/instance-loss"] = adminInstanceLoss
	adminRoutes["POST faults/capacity-reservation-interruption"] = adminCapacityReservationInterruption
}

// InstanceFaultRequest names the instance an EC2 fault hits.
type InstanceFaultRequest struct {
	InstanceID string `json:"instanceId"`
	// LeadSeconds is the spot interruption warning time (default 120, as AWS gives).
	LeadSeconds int `json:"leadSeconds"`
	// StartInSeconds is when a scheduled change or event begins.
	StartInSeconds int `json:"startInSeconds"`
	// Code is a scheduled event's EventCode (instance-reboot, system-reboot,
	// system-maintenance, instance-retirement or instance-stop).
	Code string `json:"code"`
	// Description of a scheduled event; empty takes one per code.
	Description string `json:"description"`
	// DurationSeconds is a scheduled event's window, NotBefore to NotAfter
	// (default 3600). DeadlineSeconds, when set, is how long after the start
	// the event may be postponed to (NotBeforeDeadline).
	DurationSeconds int `json:"durationSeconds"`
	DeadlineSeconds int `json:"deadlineSeconds"`
}

// liveInstance decodes the request and finds an instance that is not gone yet.
func (s *Server) liveInstance(body []byte) (*InstanceFaultRequest, *Instance, error) {
	var req InstanceFaultRequest
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, nil, fmt.Errorf("parsing request: %w", err)
		}
	}
	if req.InstanceID == "" {
		return nil, nil, fmt.Errorf("instanceId is required")
	}
	in, ok := s.ec2().Instances[req.InstanceID]
	if !ok {
		return nil, nil, fmt.Errorf("instance %s does not exist", req.InstanceID)
	}
	if in.State == "terminated" || in.State == "shutting-down" {
		return nil, nil, fmt.Errorf("instance %s is already %s", in.ID, in.State)
	}
	return &req, in, nil
}

func adminSpotInterruption(s *Server, body []byte) (any, error) {
	req, in, err := s.liveInstance(body)
	if err != nil {
		return nil, err
	}
	if in.CapacityType != "spot" {
		return nil, fmt.Errorf("instance %s is %s, not spot", in.ID, in.CapacityType)
	}
	lead := req.LeadSeconds
	if lead <= 0 {
		lead = 120
	}
	now := s.clock.Now()
	in.InterruptAt = now.Add(time.Duration(lead) * time.Second)
	s.ec2EmitLocked(Event{Source: "aws.ec2", DetailType: "EC2 Spot Instance Interruption Warning",
		Resources: []string{s.instanceARN(in.ID)},
		Detail:    map[string]string{"instance-id": in.ID, "instance-action": "terminate"}, Time: now})
	return in, nil
}

func adminRebalance(s *Server, body []byte) (any, error) {
	_, in, err := s.liveInstance(body)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	s.ec2EmitLocked(Event{Source: "aws.ec2", DetailType: "EC2 Instance Rebalance Recommendation",
		Resources: []string{s.instanceARN(in.ID)}, Detail: map[string]string{"instance-id": in.ID}, Time: now})
	return in, nil
}

// adminScheduledChange is an instance retirement: AWS Health announces it
// as a scheduledChange, and DescribeInstanceStatus lists it as an
// instance-retirement event over the same window.
func adminScheduledChange(s *Server, body []byte) (any, error) {
	req, in, err := s.liveInstance(body)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	start := now.Add(time.Duration(req.StartInSeconds) * time.Second)
	s.addScheduledEventLocked(in, "instance-retirement", "", start, start.Add(time.Hour), time.Time{})
	code := "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED"
	s.ec2EmitLocked(Event{Source: "aws.health", DetailType: "AWS Health Event", Resources: []string{in.ID}, Time: now,
		Detail: map[string]any{
			"eventArn":          "arn:aws:health:" + s.world.Region + "::event/EC2/" + code + "/" + code + "_" + stableHex(in.ID+now.String(), 12),
			"service":           "EC2",
			"eventTypeCode":     code,
			"eventTypeCategory": "scheduledChange",
			"startTime":         start.UTC().Format(http.TimeFormat),
			"endTime":           start.Add(time.Hour).UTC().Format(http.TimeFormat),
			"eventDescription": []map[string]string{{"language": "en_US",
				"latestDescription": "EC2 has detected degradation of the underlying hardware hosting your instance " + in.ID + ", which is scheduled for retirement."}},
			"affectedEntities": []map[string]string{{"entityValue": in.ID}},
		}})
	return in, nil
}

// adminInstanceLoss terminates at once with no warning, like a host failure.
func adminInstanceLoss(s *Server, body []byte) (any, error) {
	_, in, err := s.liveInstance(body)
	if err != nil {
		return nil, err
	}
	s.setStateLocked(in, "terminated", s.clock.Now())
	return in, nil
}

func adminCapacityReservationInterruption(s *Server, body []byte) (any, error) {
	_, in, err := s.liveInstance(body)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	s.ec2EmitLocked(Event{Source: "aws.ec2", DetailType: "EC2 Capacity Reservation Instance Interruption Warning",
		Resources: []string{s.instanceARN(in.ID)},
		Detail:    map[string]string{"instance-id": in.ID, "instance-action": "terminate"}, Time: now})
	return in, nil
}

// adminScheduledEvent schedules an EC2 event for an instance, which
// DescribeInstanceStatus then lists in its Events. It answers the event.
func adminScheduledEvent(s *Server, body []byte) (any, error) {
	req, in, err := s.liveInstance(body)
	if err != nil {
		return nil, err
	}
	if _, ok := scheduledEventCodes[req.Code]; !ok {
		return nil, fmt.Errorf("code %q must be one of instance-reboot, system-reboot, system-maintenance, instance-retirement, instance-stop", req.Code)
	}
	if req.StartInSeconds < 0 || req.DurationSeconds < 0 || req.DeadlineSeconds < 0 {
		return nil, fmt.Errorf("startInSeconds, durationSeconds and deadlineSeconds must not be negative")
	}
	duration := time.Duration(req.DurationSeconds) * time.Second
	if duration == 0 {
		duration = time.Hour
	}
	start := s.clock.Now().Add(time.Duration(req.StartInSeconds) * time.Second)
	var deadline time.Time
	if req.DeadlineSeconds > 0 {
		deadline = start.Add(time.Duration(req.DeadlineSeconds) * time.Second)
	}
	return s.addScheduledEventLocked(in, req.Code, req.Description, start, start.Add(duration), deadline), nil
}
