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
	adminRoutes["POST faults/instance-loss"] = adminInstanceLoss
	adminRoutes["POST faults/capacity-reservation-interruption"] = adminCapacityReservationInterruption
}

// InstanceFaultRequest names the instance an EC2 fault hits.
type InstanceFaultRequest struct {
	InstanceID string `json:"instanceId"`
	// LeadSeconds is the spot interruption warning time (default 120, as AWS gives).
	LeadSeconds int `json:"leadSeconds"`
	// StartInSeconds is when a scheduled change begins.
	StartInSeconds int `json:"startInSeconds"`
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

func adminScheduledChange(s *Server, body []byte) (any, error) {
	req, in, err := s.liveInstance(body)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	start := now.Add(time.Duration(req.StartInSeconds) * time.Second)
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
