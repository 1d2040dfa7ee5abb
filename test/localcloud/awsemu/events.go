package awsemu

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// EventsState is the simulated EventBridge: rules on the default bus.
type EventsState struct {
	Rules map[string]*Rule `json:"rules"` // by name
}

// Rule is an EventBridge rule and its targets.
type Rule struct {
	Name               string            `json:"name"`
	EventPattern       string            `json:"eventPattern"`
	ScheduleExpression string            `json:"scheduleExpression"`
	State              string            `json:"state"`
	Description        string            `json:"description"`
	RoleArn            string            `json:"roleArn"`
	Tags               map[string]string `json:"tags"`
	Targets            []*RuleTarget     `json:"targets"`
}

// RuleTarget is where a rule sends matching events; only SQS queues receive them.
type RuleTarget struct {
	ID    string `json:"id"`
	Arn   string `json:"arn"`
	Input string `json:"input,omitempty"`
}

func newEventsState(w *World) *EventsState { return &EventsState{Rules: map[string]*Rule{}} }

const defaultEventBus = "default"

var eventsName = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)

func (s *Server) ruleARN(name string) string {
	return "arn:aws:events:" + s.world.Region + ":" + AccountID + ":rule/" + name
}

// checkBus accepts the default bus by name or ARN; the emulator has no other.
func (s *Server) checkBus(name string) error {
	if name == "" || name == defaultEventBus || name == "arn:aws:events:"+s.world.Region+":"+AccountID+":event-bus/default" {
		return nil
	}
	return Errorf(400, "ResourceNotFoundException", "Event bus %s does not exist.", name)
}

func (s *Server) ruleLocked(name, bus string) (*Rule, error) {
	if err := s.checkBus(bus); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, errValidation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	}
	r := s.world.Events.Rules[name]
	if r == nil {
		return nil, Errorf(400, "ResourceNotFoundException", "Rule %s does not exist on EventBus default.", name)
	}
	return r, nil
}

// envelope is the event as EventBridge delivers it, fields in AWS's order.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// emitLocked publishes an event to the default bus: matching rules deliver
// it to their targets.
func (s *Server) emitLocked(e Event) {
	var detail json.RawMessage
	switch d := e.Detail.(type) {
	case nil:
		detail = json.RawMessage("{}")
	case json.RawMessage:
		detail = d
	case []byte:
		detail = d
	case string:
		// A JSON text, as PutEvents takes it.
		detail = json.RawMessage(d)
		if !json.Valid(detail) {
			s.log.Error("events: event detail is not JSON", "source", e.Source, "detailType", e.DetailType)
			return
		}
	default:
		b, err := json.Marshal(d)
		if err != nil {
			s.log.Error("events: encoding event detail", "source", e.Source, "detailType", e.DetailType, "error", err)
			return
		}
		detail = b
	}
	if _, err := s.publishLocked(e.Source, e.DetailType, detail, e.Resources, e.Time); err != nil {
		s.log.Error("events: publishing", "source", e.Source, "detailType", e.DetailType, "error", err)
	}
}

// publishLocked builds the envelope and delivers it to every enabled rule's
// targets whose pattern matches; it returns the event id.
func (s *Server) publishLocked(source, detailType string, detail json.RawMessage, resources []string, at time.Time) (string, error) {
	if at.IsZero() {
		at = s.clock.Now()
	}
	if resources == nil {
		resources = []string{}
	}
	env := envelope{
		Version: "0", ID: newUUID(), DetailType: detailType, Source: source, Account: AccountID,
		Time: at.UTC().Truncate(time.Second).Format(time.RFC3339), Region: s.world.Region,
		Resources: resources, Detail: detail,
	}
	body, err := json.Marshal(env)
	if err != nil {
		return "", fmt.Errorf("encoding event envelope: %w", err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(body, &decoded); err != nil {
		return "", fmt.Errorf("decoding event envelope: %w", err)
	}
	names := make([]string, 0, len(s.world.Events.Rules))
	for n := range s.world.Events.Rules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := s.world.Events.Rules[n]
		if r.State != "ENABLED" || r.EventPattern == "" {
			continue
		}
		p, err := parseEventPattern(r.EventPattern)
		if err != nil || !matchPattern(p, decoded) {
			continue
		}
		for _, t := range r.Targets {
			if !strings.HasPrefix(t.Arn, "arn:aws:sqs:") {
				s.log.Info("events: target type not simulated; event not delivered", "rule", r.Name, "target", t.Arn)
				continue
			}
			msg := string(body)
			if t.Input != "" {
				msg = t.Input
			}
			if err := s.sqsDeliverFromLocked(t.Arn, msg, "events.amazonaws.com", s.ruleARN(r.Name)); err != nil {
				s.log.Warn("events: event dropped", "rule", r.Name, "target", t.Arn, "eventId", env.ID, "reason", err)
				continue
			}
			s.log.Info("events: delivered", "rule", r.Name, "target", t.Arn, "eventId", env.ID, "detailType", detailType)
		}
	}
	return env.ID, nil
}

func (s *Server) registerEvents() {
	s.register("events", "PutRule", protoJSON11, true, handle(s.eventsPutRule))
	s.register("events", "DescribeRule", protoJSON11, false, handle(s.eventsDescribeRule))
	s.register("events", "ListRules", protoJSON11, false, handle(s.eventsListRules))
	s.register("events", "DeleteRule", protoJSON11, true, handle(s.eventsDeleteRule))
	s.register("events", "EnableRule", protoJSON11, true, s.eventsSetState("ENABLED"))
	s.register("events", "DisableRule", protoJSON11, true, s.eventsSetState("DISABLED"))
	s.register("events", "PutTargets", protoJSON11, true, handle(s.eventsPutTargets))
	s.register("events", "ListTargetsByRule", protoJSON11, false, handle(s.eventsListTargets))
	s.register("events", "RemoveTargets", protoJSON11, true, handle(s.eventsRemoveTargets))
	s.register("events", "TagResource", protoJSON11, true, handle(s.eventsTagResource))
	s.register("events", "UntagResource", protoJSON11, true, handle(s.eventsUntagResource))
	s.register("events", "ListTagsForResource", protoJSON11, false, handle(s.eventsListTags))
	s.register("events", "PutEvents", protoJSON11, true, handle(s.eventsPutEvents))
}

type eventsTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type eventsPutRuleInput struct {
	Name               string
	EventPattern       string
	ScheduleExpression string
	State              string
	Description        string
	RoleArn            string
	Tags               []eventsTag
	EventBusName       string
}

type eventsPutRuleOutput struct {
	RuleArn string `json:"RuleArn"`
}

func (s *Server) eventsPutRule(c *Call, in *eventsPutRuleInput) (*eventsPutRuleOutput, error) {
	if err := s.checkBus(in.EventBusName); err != nil {
		return nil, err
	}
	if !eventsName.MatchString(in.Name) {
		return nil, errValidation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length between 1 and 64", in.Name)
	}
	if in.EventPattern == "" && in.ScheduleExpression == "" {
		return nil, errValidation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	if in.EventPattern != "" {
		if _, err := parseEventPattern(in.EventPattern); err != nil {
			return nil, Errorf(400, "InvalidEventPatternException", "Event pattern is not valid. Reason: %v", err)
		}
	}
	switch in.State {
	case "":
		in.State = "ENABLED"
	case "ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS":
	default:
		return nil, errValidation("1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [DISABLED, ENABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]", in.State)
	}
	r := s.world.Events.Rules[in.Name]
	if r == nil {
		r = &Rule{Name: in.Name, Tags: map[string]string{}}
		// Tags apply when the rule is created; updates leave them alone.
		for _, t := range in.Tags {
			r.Tags[t.Key] = t.Value
		}
		s.world.Events.Rules[in.Name] = r
	}
	r.EventPattern, r.ScheduleExpression, r.State = in.EventPattern, in.ScheduleExpression, in.State
	r.Description, r.RoleArn = in.Description, in.RoleArn
	s.log.Info("events rule put", "rule", r.Name, "state", r.State)
	return &eventsPutRuleOutput{s.ruleARN(r.Name)}, nil
}

type ruleOutput struct {
	Name               string `json:"Name"`
	Arn                string `json:"Arn"`
	EventPattern       string `json:"EventPattern,omitempty"`
	ScheduleExpression string `json:"ScheduleExpression,omitempty"`
	State              string `json:"State"`
	Description        string `json:"Description,omitempty"`
	RoleArn            string `json:"RoleArn,omitempty"`
	EventBusName       string `json:"EventBusName"`
	CreatedBy          string `json:"CreatedBy,omitempty"`
}

func (s *Server) ruleOutput(r *Rule) ruleOutput {
	return ruleOutput{Name: r.Name, Arn: s.ruleARN(r.Name), EventPattern: r.EventPattern, ScheduleExpression: r.ScheduleExpression,
		State: r.State, Description: r.Description, RoleArn: r.RoleArn, EventBusName: defaultEventBus}
}

func (s *Server) eventsDescribeRule(c *Call, in *ruleRef) (*ruleOutput, error) {
	r, err := s.ruleLocked(in.Name, in.EventBusName)
	if err != nil {
		return nil, err
	}
	out := s.ruleOutput(r)
	out.CreatedBy = AccountID
	return &out, nil
}

// pageToken and pageStart implement NextToken as the last name returned.
func pageStart(names []string, token string) int {
	if token == "" {
		return 0
	}
	return sort.SearchStrings(names, token+"\x00")
}

type eventsListRulesInput struct {
	NamePrefix, EventBusName, NextToken string
	Limit                               *int
}

type eventsListRulesOutput struct {
	Rules     []ruleOutput `json:"Rules"`
	NextToken string       `json:"NextToken,omitempty"`
}

func (s *Server) eventsListRules(c *Call, in *eventsListRulesInput) (*eventsListRulesOutput, error) {
	if err := s.checkBus(in.EventBusName); err != nil {
		return nil, err
	}
	names := []string{}
	for n := range s.world.Events.Rules {
		if strings.HasPrefix(n, in.NamePrefix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	start, end := pageStart(names, in.NextToken), len(names)
	out := eventsListRulesOutput{Rules: []ruleOutput{}}
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 100 {
			return nil, errValidation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit)
		}
		if start+*in.Limit < end {
			end = start + *in.Limit
			out.NextToken = names[end-1]
		}
	}
	for _, n := range names[start:end] {
		out.Rules = append(out.Rules, s.ruleOutput(s.world.Events.Rules[n]))
	}
	return &out, nil
}

type eventsDeleteRuleInput struct {
	Name, EventBusName string
	Force              bool
}

func (s *Server) eventsDeleteRule(c *Call, in *eventsDeleteRuleInput) (*noOutput, error) {
	if err := s.checkBus(in.EventBusName); err != nil {
		return nil, err
	}
	r := s.world.Events.Rules[in.Name]
	if r == nil {
		// Deleting a rule that is already gone succeeds, as on AWS.
		return nil, nil
	}
	if len(r.Targets) > 0 {
		return nil, errValidation("Rule can't be deleted since it has targets.")
	}
	delete(s.world.Events.Rules, in.Name)
	s.log.Info("events rule deleted", "rule", in.Name)
	return nil, nil
}

type ruleRef struct{ Name, EventBusName string }

// eventsSetState is EnableRule or DisableRule.
func (s *Server) eventsSetState(state string) handlerFunc {
	return handle(func(c *Call, in *ruleRef) (*noOutput, error) {
		r, err := s.ruleLocked(in.Name, in.EventBusName)
		if err != nil {
			return nil, err
		}
		r.State = state
		return nil, nil
	})
}

type targetFailure struct {
	TargetId     string `json:"TargetId"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

type targetsResult struct {
	FailedEntryCount int             `json:"FailedEntryCount"`
	FailedEntries    []targetFailure `json:"FailedEntries"`
}

// maxTargetsPerRule is AWS's limit of targets on one rule.
const maxTargetsPerRule = 5
