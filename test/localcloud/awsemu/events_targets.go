package awsemu

import (
	"encoding/json"
	"sort"
	"strings"
)

// EventBridge targets and tags.

type eventsPutTargetsInput struct {
	Rule, EventBusName string
	Targets            []struct {
		Id, Arn, Input string
	}
}

func (s *Server) eventsPutTargets(c *Call, in *eventsPutTargetsInput) (*targetsResult, error) {
	r, err := s.ruleLocked(in.Rule, in.EventBusName)
	if err != nil {
		return nil, err
	}
	if len(in.Targets) < 1 || len(in.Targets) > 10 {
		return nil, errValidation("1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and 10")
	}
	out := targetsResult{FailedEntries: []targetFailure{}}
	for _, t := range in.Targets {
		if !eventsName.MatchString(t.Id) {
			return nil, errValidation("1 validation error detected: Value '%s' at 'targets.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", t.Id)
		}
		if !strings.HasPrefix(t.Arn, "arn:") {
			return nil, errValidation("Parameter %s is not valid. Reason: Provided Arn is not in correct format.", t.Arn)
		}
		if t.Input != "" && !json.Valid([]byte(t.Input)) {
			out.FailedEntries = append(out.FailedEntries, targetFailure{t.Id, "ValidationException", "Input is not valid JSON."})
			continue
		}
		replaced := false
		for _, existing := range r.Targets {
			if existing.ID == t.Id {
				existing.Arn, existing.Input = t.Arn, t.Input
				replaced = true
			}
		}
		if replaced {
			continue
		}
		if len(r.Targets) >= maxTargetsPerRule {
			return nil, Errorf(400, "LimitExceededException", "The requested resource exceeds the maximum number allowed.")
		}
		r.Targets = append(r.Targets, &RuleTarget{ID: t.Id, Arn: t.Arn, Input: t.Input})
	}
	out.FailedEntryCount = len(out.FailedEntries)
	return &out, nil
}

type eventsListTargetsInput struct {
	Rule, EventBusName, NextToken string
	Limit                         *int
}

// listedTarget is a target as ListTargetsByRule reports it.
type listedTarget struct {
	Id    string `json:"Id"`
	Arn   string `json:"Arn"`
	Input string `json:"Input,omitempty"`
}

type eventsListTargetsOutput struct {
	Targets []listedTarget `json:"Targets"`
}

func (s *Server) eventsListTargets(c *Call, in *eventsListTargetsInput) (*eventsListTargetsOutput, error) {
	r, err := s.ruleLocked(in.Rule, in.EventBusName)
	if err != nil {
		return nil, err
	}
	out := eventsListTargetsOutput{Targets: []listedTarget{}}
	for _, t := range r.Targets {
		out.Targets = append(out.Targets, listedTarget{t.ID, t.Arn, t.Input})
	}
	return &out, nil
}

type eventsRemoveTargetsInput struct {
	Rule, EventBusName string
	Ids                []string
	Force              bool
}

func (s *Server) eventsRemoveTargets(c *Call, in *eventsRemoveTargetsInput) (*targetsResult, error) {
	r, err := s.ruleLocked(in.Rule, in.EventBusName)
	if err != nil {
		return nil, err
	}
	if len(in.Ids) < 1 || len(in.Ids) > 100 {
		return nil, errValidation("1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length between 1 and 100")
	}
	drop := map[string]bool{}
	for _, id := range in.Ids {
		drop[id] = true
	}
	kept := r.Targets[:0]
	for _, t := range r.Targets {
		if !drop[t.ID] {
			kept = append(kept, t)
		}
	}
	r.Targets = kept
	return &targetsResult{FailedEntries: []targetFailure{}}, nil
}

// ruleByARN resolves a rule ARN on the default bus, the only taggable resource here.
func (s *Server) ruleByARN(arn string) (*Rule, error) {
	if arn == "" {
		return nil, errValidation("1 validation error detected: Value null at 'resourceARN' failed to satisfy constraint: Member must not be null")
	}
	prefix := "arn:aws:events:" + s.world.Region + ":" + AccountID + ":rule/"
	name, ok := strings.CutPrefix(arn, prefix)
	if r := s.world.Events.Rules[name]; ok && r != nil {
		return r, nil
	}
	return nil, Errorf(400, "ResourceNotFoundException", "Rule %s does not exist on EventBus default.", strings.TrimPrefix(name, "default/"))
}

type eventsTagResourceInput struct {
	ResourceARN string
	Tags        []eventsTag
}

func (s *Server) eventsTagResource(c *Call, in *eventsTagResourceInput) (*noOutput, error) {
	r, err := s.ruleByARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if r.Tags == nil {
		r.Tags = map[string]string{}
	}
	for _, t := range in.Tags {
		if t.Key == "" {
			return nil, errValidation("1 validation error detected: Value at 'tags.key' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
		r.Tags[t.Key] = t.Value
	}
	return nil, nil
}

type eventsUntagResourceInput struct {
	ResourceARN string
	TagKeys     []string
}

func (s *Server) eventsUntagResource(c *Call, in *eventsUntagResourceInput) (*noOutput, error) {
	r, err := s.ruleByARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(r.Tags, k)
	}
	return nil, nil
}

type eventsListTagsInput struct{ ResourceARN string }

type eventsListTagsOutput struct {
	Tags []eventsTag `json:"Tags"`
}

func (s *Server) eventsListTags(c *Call, in *eventsListTagsInput) (*eventsListTagsOutput, error) {
	r, err := s.ruleByARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(r.Tags))
	for k := range r.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := eventsListTagsOutput{Tags: []eventsTag{}}
	for _, k := range keys {
		out.Tags = append(out.Tags, eventsTag{k, r.Tags[k]})
	}
	return &out, nil
}

type putEventsResultEntry struct {
	EventId      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}
