package awsemu

import (
	"sort"
	"strconv"
	"strings"
)

// IAM's managed policies and their versions.

// --- managed policies ---

type policyResult struct {
	Policy policyXML
}

type iamCreatePolicyInput struct {
	PolicyName     string
	Path           string
	PolicyDocument string
	Description    string
	Tags           []tagInput
}

func (s *Server) iamCreatePolicy(c *Call, in *iamCreatePolicyInput) (*policyResult, error) {
	if err := validateIAMName("PolicyName", in.PolicyName, 128); err != nil {
		return nil, err
	}
	path, perr := defaultPath(in.Path)
	if perr != nil {
		return nil, perr
	}
	if err := validatePolicyDocument(in.PolicyDocument); err != nil {
		return nil, err
	}
	st := s.world.IAM
	for _, p := range st.Policies {
		if strings.EqualFold(p.Name, in.PolicyName) {
			return nil, errEntityExists("A policy called %s already exists. Duplicate names are not allowed.", in.PolicyName)
		}
	}
	tags, terr := mergeTags(nil, in.Tags)
	if terr != nil {
		return nil, terr
	}
	now := s.clock.Now().UTC()
	p := &IAMPolicy{
		Name: in.PolicyName, Path: path, ID: iamID("ANPA"), ARN: "arn:aws:iam::" + AccountID + ":policy" + path + in.PolicyName,
		Description: in.Description, CreateDate: now, UpdateDate: now, DefaultVersion: "v1", NextVersion: 2, Tags: tags,
		Versions: []*IAMPolicyVersion{{ID: "v1", Document: in.PolicyDocument, CreateDate: now}},
	}
	st.Policies[p.ARN] = p
	return &policyResult{Policy: st.policyXML(p)}, nil
}

type iamGetPolicyInput struct{ PolicyArn string }

func (s *Server) iamGetPolicy(c *Call, in *iamGetPolicyInput) (*policyResult, error) {
	p, _, err := s.world.IAM.policy(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return &policyResult{Policy: s.world.IAM.policyXML(p)}, nil
}

type iamListPoliciesInput struct {
	Scope        string
	OnlyAttached bool
	PathPrefix   string
}

type iamListPoliciesOutput struct {
	Policies    []policyXML `xml:"Policies>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (s *Server) iamListPolicies(c *Call, in *iamListPoliciesInput) (*iamListPoliciesOutput, error) {
	pg := pageFromForm(c)
	st := s.world.IAM
	var all []*IAMPolicy
	switch in.Scope {
	case "", "All", "AWS", "Local":
	default:
		return nil, errIAMValidation("1 validation error detected: Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", in.Scope)
	}
	if in.Scope != "Local" {
		for _, m := range awsManagedPolicies {
			all = append(all, builtinPolicy(awsManagedPolicyARN(m)))
		}
	}
	if in.Scope != "AWS" {
		for _, p := range st.Policies {
			all = append(all, p)
		}
	}
	var picked []*IAMPolicy
	for _, p := range all {
		if strings.HasPrefix(p.Path, in.PathPrefix) && (!in.OnlyAttached || st.attachmentCount(p.ARN) > 0) {
			picked = append(picked, p)
		}
	}
	sort.Slice(picked, func(i, j int) bool { return picked[i].ARN < picked[j].ARN })
	page, marker, truncated, err := paginate(picked, pg.Marker, pg.MaxItems)
	if err != nil {
		return nil, err
	}
	out := iamListPoliciesOutput{Policies: []policyXML{}, IsTruncated: truncated, Marker: marker}
	for _, p := range page {
		x := st.policyXML(p)
		x.Tags = nil // ListPolicies does not return tags
		out.Policies = append(out.Policies, x)
	}
	return &out, nil
}

// customerPolicy finds a policy the caller may change.
func (s *Server) customerPolicy(arn string) (*IAMPolicy, *Error) {
	p, builtin, err := s.world.IAM.policy(arn)
	if err != nil {
		return nil, err
	}
	if builtin {
		return nil, Errorf(403, "AccessDenied", "AWS managed policy %s cannot be modified.", arn)
	}
	return p, nil
}

func (p *IAMPolicy) version(id string) *IAMPolicyVersion {
	for _, v := range p.Versions {
		if v.ID == id {
			return v
		}
	}
	return nil
}

type iamCreatePolicyVersionInput struct {
	PolicyArn      string
	PolicyDocument string
	SetAsDefault   bool
}

type iamCreatePolicyVersionOutput struct{ PolicyVersion policyVersionXML }

func (s *Server) iamCreatePolicyVersion(c *Call, in *iamCreatePolicyVersionInput) (*iamCreatePolicyVersionOutput, error) {
	p, err := s.customerPolicy(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if err := validatePolicyDocument(in.PolicyDocument); err != nil {
		return nil, err
	}
	if len(p.Versions) >= 5 {
		return nil, errLimitExceeded("A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")
	}
	now := s.clock.Now().UTC()
	v := &IAMPolicyVersion{ID: "v" + strconv.Itoa(p.NextVersion), Document: in.PolicyDocument, CreateDate: now}
	p.NextVersion++
	p.Versions = append(p.Versions, v)
	if in.SetAsDefault {
		p.DefaultVersion = v.ID
	}
	p.UpdateDate = now
	return &iamCreatePolicyVersionOutput{versionXML(p, v, false)}, nil
}

type iamGetPolicyVersionInput struct {
	PolicyArn string
	VersionId string
}

type iamGetPolicyVersionOutput struct{ PolicyVersion policyVersionXML }

func (s *Server) iamGetPolicyVersion(c *Call, in *iamGetPolicyVersionInput) (*iamGetPolicyVersionOutput, error) {
	p, _, err := s.world.IAM.policy(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	v := p.version(in.VersionId)
	if v == nil {
		return nil, errNoSuchEntity("Policy %s version %s does not exist or is not attachable.", in.PolicyArn, in.VersionId)
	}
	return &iamGetPolicyVersionOutput{versionXML(p, v, true)}, nil
}

type iamListPolicyVersionsInput struct{ PolicyArn string }

type iamListPolicyVersionsOutput struct {
	Versions    []policyVersionXML `xml:"Versions>member"`
	IsTruncated bool
}

func (s *Server) iamListPolicyVersions(c *Call, in *iamListPolicyVersionsInput) (*iamListPolicyVersionsOutput, error) {
	p, _, err := s.world.IAM.policy(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	out := iamListPolicyVersionsOutput{}
	// IAM lists the newest version first.
	for i := len(p.Versions) - 1; i >= 0; i-- {
		out.Versions = append(out.Versions, versionXML(p, p.Versions[i], false))
	}
	return &out, nil
}

type iamDeletePolicyVersionInput struct {
	PolicyArn string
	VersionId string
}

func (s *Server) iamDeletePolicyVersion(c *Call, in *iamDeletePolicyVersionInput) (*noOutput, error) {
	p, err := s.customerPolicy(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if p.version(in.VersionId) == nil {
		return nil, errNoSuchEntity("Policy %s version %s does not exist.", in.PolicyArn, in.VersionId)
	}
	if in.VersionId == p.DefaultVersion {
		return nil, errDeleteConflict("Cannot delete the default version of a policy.")
	}
	for i, v := range p.Versions {
		if v.ID == in.VersionId {
			p.Versions = append(p.Versions[:i], p.Versions[i+1:]...)
			break
		}
	}
	return nil, nil
}

type iamSetDefaultPolicyVersionInput struct {
	PolicyArn string
	VersionId string
}

func (s *Server) iamSetDefaultPolicyVersion(c *Call, in *iamSetDefaultPolicyVersionInput) (*noOutput, error) {
	p, err := s.customerPolicy(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if p.version(in.VersionId) == nil {
		return nil, errNoSuchEntity("Policy %s version %s does not exist.", in.PolicyArn, in.VersionId)
	}
	p.DefaultVersion = in.VersionId
	p.UpdateDate = s.clock.Now().UTC()
	return nil, nil
}

type iamDeletePolicyInput struct{ PolicyArn string }

func (s *Server) iamDeletePolicy(c *Call, in *iamDeletePolicyInput) (*noOutput, error) {
	p, err := s.customerPolicy(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	if s.world.IAM.attachmentCount(p.ARN) > 0 {
		return nil, errDeleteConflict("Cannot delete a policy attached to entities.")
	}
	if len(p.Versions) > 1 {
		return nil, errDeleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	delete(s.world.IAM.Policies, p.ARN)
	return nil, nil
}
