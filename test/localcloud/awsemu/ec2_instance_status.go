package awsemu

import "time"

// ---- DescribeInstanceStatus and scheduled events ----

type statusDetailXML struct {
	Name   string `xml:"name"`
	Status string `xml:"status"`
}

type statusSummaryXML struct {
	Status  string                 `xml:"status"`
	Details items[statusDetailXML] `xml:"details"`
}

// statusSummary is a status check's answer: no check here ever fails
// (instances are healthy until a fault ends them), so a running instance
// passes and a pending one is still initializing.
func statusSummary(state string) statusSummaryXML {
	st := statusSummaryXML{Status: "not-applicable"}
	status := ""
	switch state {
	case "running":
		st.Status, status = "ok", "passed"
	case "pending":
		st.Status, status = "initializing", "initializing"
	}
	if status != "" {
		st.Details.Item = append(st.Details.Item, statusDetailXML{"reachability", status})
	}
	return st
}

// reachability is the status of a summary's reachability check, if any.
func (st statusSummaryXML) reachability() []string {
	var out []string
	for _, d := range st.Details.Item {
		if d.Name == "reachability" {
			out = append(out, d.Status)
		}
	}
	return out
}

type instanceStatusEventXML struct {
	Code              string `xml:"code"`
	Description       string `xml:"description"`
	InstanceEventID   string `xml:"instanceEventId"`
	NotBefore         string `xml:"notBefore"`
	NotAfter          string `xml:"notAfter,omitempty"`
	NotBeforeDeadline string `xml:"notBeforeDeadline,omitempty"`
}

type instanceStatusXML struct {
	InstanceID         string                        `xml:"instanceId"`
	AvailabilityZone   string                        `xml:"availabilityZone"`
	AvailabilityZoneID string                        `xml:"availabilityZoneId"`
	Events             items[instanceStatusEventXML] `xml:"eventsSet"`
	InstanceState      instanceStateXML              `xml:"instanceState"`
	InstanceStatus     statusSummaryXML              `xml:"instanceStatus"`
	SystemStatus       statusSummaryXML              `xml:"systemStatus"`
	AttachedEbsStatus  statusSummaryXML              `xml:"attachedEbsStatus"`
	Operator           operatorXML                   `xml:"operator"`
}

func timeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ec2Time(t)
}

func (s *Server) instanceStatus(inst *Instance) instanceStatusXML {
	x := instanceStatusXML{InstanceID: inst.ID, AvailabilityZone: inst.Zone, AvailabilityZoneID: s.zoneIDOf(inst.Zone),
		InstanceState: stateXML(inst.State), InstanceStatus: statusSummary(inst.State), SystemStatus: statusSummary(inst.State),
		AttachedEbsStatus: statusSummary(inst.State)}
	for _, e := range s.ec2().ScheduledEvents[inst.ID] {
		x.Events.Item = append(x.Events.Item, instanceStatusEventXML{Code: e.Code, Description: e.Description, InstanceEventID: e.ID,
			NotBefore: ec2Time(e.NotBefore), NotAfter: timeOrEmpty(e.NotAfter), NotBeforeDeadline: timeOrEmpty(e.NotBeforeDeadline)})
	}
	return x
}

func eventField(f func(e *instanceStatusEventXML) string) func(instanceStatusXML) []string {
	return func(x instanceStatusXML) []string {
		var out []string
		for i := range x.Events.Item {
			out = append(out, set(f(&x.Events.Item[i]))...)
		}
		return out
	}
}

// statusFields are DescribeInstanceStatus' filters (ec2FilterTable lists them).
var statusFields = filterFields[instanceStatusXML]{
	"availability-zone":            func(x instanceStatusXML) []string { return one(x.AvailabilityZone) },
	"availability-zone-id":         func(x instanceStatusXML) []string { return one(x.AvailabilityZoneID) },
	"event.code":                   eventField(func(e *instanceStatusEventXML) string { return e.Code }),
	"event.description":            eventField(func(e *instanceStatusEventXML) string { return e.Description }),
	"event.instance-event-id":      eventField(func(e *instanceStatusEventXML) string { return e.InstanceEventID }),
	"event.not-after":              eventField(func(e *instanceStatusEventXML) string { return e.NotAfter }),
	"event.not-before":             eventField(func(e *instanceStatusEventXML) string { return e.NotBefore }),
	"event.not-before-deadline":    eventField(func(e *instanceStatusEventXML) string { return e.NotBeforeDeadline }),
	"instance-state-code":          func(x instanceStatusXML) []string { return intVal(x.InstanceState.Code) },
	"instance-state-name":          func(x instanceStatusXML) []string { return one(x.InstanceState.Name) },
	"instance-status.reachability": func(x instanceStatusXML) []string { return x.InstanceStatus.reachability() },
	"instance-status.status":       func(x instanceStatusXML) []string { return one(x.InstanceStatus.Status) },
	"operator.managed":             func(x instanceStatusXML) []string { return boolVal(x.Operator.Managed) },
	// Only a managed instance has an operator principal; none here is managed.
	"operator.principal":         func(instanceStatusXML) []string { return nil },
	"system-status.reachability": func(x instanceStatusXML) []string { return x.SystemStatus.reachability() },
	"system-status.status":       func(x instanceStatusXML) []string { return one(x.SystemStatus.Status) },
	"attached-ebs-status.status": func(x instanceStatusXML) []string { return one(x.AttachedEbsStatus.Status) },
}

type ec2DescribeInstanceStatusInput struct {
	DryRun              bool
	InstanceIDs         []string    `query:"InstanceId"`
	Filters             []ec2Filter `query:"Filter"`
	IncludeAllInstances bool
	MaxResults          int
	NextToken           string
}

type ec2DescribeInstanceStatusOutput struct {
	Statuses  items[instanceStatusXML] `xml:"instanceStatusSet"`
	NextToken string                   `xml:"nextToken,omitempty"`
}

func (s *Server) ec2DescribeInstanceStatus(c *Call, in *ec2DescribeInstanceStatusInput) (*ec2DescribeInstanceStatusOutput, error) {
	if in.DryRun {
		return nil, errDryRun()
	}
	if len(in.InstanceIDs) > 0 && in.MaxResults != 0 {
		return nil, Errorf(400, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	list, err := s.selectInstances(in.InstanceIDs)
	if err != nil {
		return nil, err
	}
	var statuses []instanceStatusXML
	for _, inst := range list {
		if !in.IncludeAllInstances && inst.State != "running" {
			continue
		}
		statuses = append(statuses, s.instanceStatus(inst))
	}
	pg, next, err := filterPage("DescribeInstanceStatus", statuses, in.Filters, statusFields, nil, in.NextToken, in.MaxResults, 5, 1000)
	if err != nil {
		return nil, err
	}
	return &ec2DescribeInstanceStatusOutput{items[instanceStatusXML]{pg}, next}, nil
}

// scheduledEventCodes are the EventCode values of the EC2 API, with the
// description the emulator gives an event injected without one.
var scheduledEventCodes = map[string]string{
	"instance-reboot":     "The instance is scheduled for a reboot",
	"system-reboot":       "The instance is scheduled for a reboot of its host",
	"system-maintenance":  "The instance's host is scheduled for maintenance",
	"instance-retirement": "The instance is running on degraded hardware",
	"instance-stop":       "The instance is running on degraded hardware",
}

// addScheduledEventLocked records a scheduled event of the instance.
func (s *Server) addScheduledEventLocked(in *Instance, code, description string, notBefore, notAfter, deadline time.Time) *ScheduledEvent {
	st := s.ec2()
	if st.ScheduledEvents == nil { // a world saved before events were kept
		st.ScheduledEvents = map[string][]*ScheduledEvent{}
	}
	e := &ScheduledEvent{ID: newID("instance-event"), Code: code, Description: firstNonEmpty(description, scheduledEventCodes[code]),
		NotBefore: notBefore, NotAfter: notAfter, NotBeforeDeadline: deadline}
	st.ScheduledEvents[in.ID] = append(st.ScheduledEvents[in.ID], e)
	return e
}
