package awsemu

import (
	"sort"
	"strings"
)

// IAM's actions on roles, and the action table.

func (s *Server) registerIAM() {
	reg := func(action string, mutates bool, h func(*Call) (any, error)) {
		s.register("iam", action, protoQuery, mutates, h)
	}
	reg("CreateRole", true, handle(s.iamCreateRole))
	reg("GetRole", false, handle(s.iamGetRole))
	reg("ListRoles", false, handle(s.iamListRoles))
	reg("UpdateAssumeRolePolicy", true, handle(s.iamUpdateAssumeRolePolicy))
	reg("UpdateRole", true, handle(s.iamUpdateRole))
	tagRole, untagRole, listRoleTags := iamTagging[roleTagsInput](func(name string) (*[]IAMTag, *Error) {
		r, err := s.iamRole(name)
		if err != nil {
			return nil, err
		}
		return &r.Tags, nil
	})
	reg("TagRole", true, tagRole)
	reg("UntagRole", true, untagRole)
	reg("ListRoleTags", false, listRoleTags)
	reg("DeleteRole", true, handle(s.iamDeleteRole))
	reg("PutRolePermissionsBoundary", true, handle(s.iamPutRolePermissionsBoundary))
	reg("DeleteRolePermissionsBoundary", true, handle(s.iamDeleteRolePermissionsBoundary))

	reg("CreatePolicy", true, handle(s.iamCreatePolicy))
	reg("GetPolicy", false, handle(s.iamGetPolicy))
	reg("ListPolicies", false, handle(s.iamListPolicies))
	reg("CreatePolicyVersion", true, handle(s.iamCreatePolicyVersion))
	reg("GetPolicyVersion", false, handle(s.iamGetPolicyVersion))
	reg("ListPolicyVersions", false, handle(s.iamListPolicyVersions))
	reg("DeletePolicyVersion", true, handle(s.iamDeletePolicyVersion))
	reg("SetDefaultPolicyVersion", true, handle(s.iamSetDefaultPolicyVersion))
	reg("DeletePolicy", true, handle(s.iamDeletePolicy))
	// AWS-managed policies cannot be tagged; untagging and listing policy
	// tags are not modelled.
	tagPolicy, _, _ := iamTagging[policyTagsInput](func(arn string) (*[]IAMTag, *Error) {
		p, err := s.customerPolicy(arn)
		if err != nil {
			return nil, err
		}
		return &p.Tags, nil
	})
	reg("TagPolicy", true, tagPolicy)

	byRole := s.holderHandler(func(c *Call) (policyHolder, *Error) {
		r, err := s.iamRole(c.Form.Get("RoleName"))
		if err != nil {
			return policyHolder{}, err
		}
		return r.holder(), nil
	})
	reg("AttachRolePolicy", true, byRole(s.attachPolicy))
	reg("DetachRolePolicy", true, byRole(s.detachPolicy))
	reg("ListAttachedRolePolicies", false, byRole(s.listAttachedPolicies))
	reg("PutRolePolicy", true, byRole(s.putInlinePolicy))
	reg("GetRolePolicy", false, byRole(s.getInlinePolicy))
	reg("DeleteRolePolicy", true, byRole(s.deleteInlinePolicy))
	reg("ListRolePolicies", false, byRole(s.listInlinePolicies))
	s.registerIAMUsers(reg)

	s.registerIAMInstanceProfiles(reg)
	s.registerIAMOIDC(reg)
}

func (s *Server) iamRole(name string) (*IAMRole, *Error) {
	if err := validateIAMName("RoleName", name, 64); err != nil {
		return nil, err
	}
	r := s.world.IAM.Roles[strings.ToLower(name)]
	if r == nil {
		return nil, errNoSuchEntity("The role with name %s cannot be found.", name)
	}
	return r, nil
}

type roleResult struct {
	Role roleXML
}

type iamCreateRoleInput struct {
	RoleName                 string
	Path                     string
	AssumeRolePolicyDocument string
	Description              string
	MaxSessionDuration       int
	PermissionsBoundary      string
	Tags                     []tagInput
}

func (s *Server) iamCreateRole(c *Call, in *iamCreateRoleInput) (*roleResult, error) {
	if err := validateIAMName("RoleName", in.RoleName, 64); err != nil {
		return nil, err
	}
	path, perr := defaultPath(in.Path)
	if perr != nil {
		return nil, perr
	}
	if in.AssumeRolePolicyDocument == "" {
		return nil, errIAMValidation("1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null")
	}
	if err := validatePolicyDocument(in.AssumeRolePolicyDocument); err != nil {
		return nil, err
	}
	if len(in.Description) > 1000 {
		return nil, errIAMValidation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = 3600
	}
	if in.MaxSessionDuration < 3600 || in.MaxSessionDuration > 43200 {
		return nil, errIAMValidation("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", in.MaxSessionDuration)
	}
	st := s.world.IAM
	if in.PermissionsBoundary != "" {
		if _, _, err := st.policy(in.PermissionsBoundary); err != nil {
			return nil, err
		}
	}
	if st.Roles[strings.ToLower(in.RoleName)] != nil {
		return nil, errEntityExists("Role with name %s already exists.", in.RoleName)
	}
	tags, terr := mergeTags(nil, in.Tags)
	if terr != nil {
		return nil, terr
	}
	r := &IAMRole{
		Name: in.RoleName, Path: path, ID: iamID("AROA"), ARN: "arn:aws:iam::" + AccountID + ":role" + path + in.RoleName,
		CreateDate: s.clock.Now().UTC(), AssumeRolePolicyDocument: in.AssumeRolePolicyDocument, Description: in.Description,
		MaxSessionDuration: in.MaxSessionDuration, PermissionsBoundary: in.PermissionsBoundary, Tags: tags,
		InlinePolicies: map[string]string{},
	}
	st.Roles[strings.ToLower(r.Name)] = r
	s.log.Info("iam: created role", "role", r.ARN)
	return &roleResult{Role: r.xml()}, nil
}

type iamGetRoleInput struct{ RoleName string }

func (s *Server) iamGetRole(c *Call, in *iamGetRoleInput) (*roleResult, error) {
	r, err := s.iamRole(in.RoleName)
	if err != nil {
		return nil, err
	}
	return &roleResult{Role: r.xml()}, nil
}

type iamListRolesOutput struct {
	Roles       []roleXML `xml:"Roles>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (s *Server) iamListRoles(c *Call, in *pathPageInput) (*iamListRolesOutput, error) {
	page, marker, truncated, err := pageByPath(in, s.world.IAM.Roles, func(r *IAMRole) (string, string) { return r.Path, r.Name })
	if err != nil {
		return nil, err
	}
	out := iamListRolesOutput{Roles: []roleXML{}, IsTruncated: truncated, Marker: marker}
	for _, r := range page {
		out.Roles = append(out.Roles, r.xml())
	}
	return &out, nil
}

// pathPageInput is the input of a List action over IAM entities by path.
type pathPageInput struct {
	PathPrefix string
	Marker     string
	MaxItems   int
}

// pageByPath is one page of a List action over IAM entities: those under
// PathPrefix, in name order (IAM compares names without case).
func pageByPath[T any](in *pathPageInput, all map[string]*T, pathAndName func(*T) (string, string)) ([]*T, string, bool, error) {
	var items []*T
	for _, x := range all {
		if path, _ := pathAndName(x); strings.HasPrefix(path, in.PathPrefix) {
			items = append(items, x)
		}
	}
	name := func(x *T) string { _, n := pathAndName(x); return strings.ToLower(n) }
	sort.Slice(items, func(i, j int) bool { return name(items[i]) < name(items[j]) })
	page, marker, truncated, err := paginate(items, in.Marker, in.MaxItems)
	if err != nil {
		return nil, "", false, err
	}
	return page, marker, truncated, nil
}

func pageFromForm(c *Call) pageInput {
	var p pageInput
	_ = c.Decode(&p)
	return p
}

type iamUpdateAssumeRolePolicyInput struct {
	RoleName       string
	PolicyDocument string
}

func (s *Server) iamUpdateAssumeRolePolicy(c *Call, in *iamUpdateAssumeRolePolicyInput) (*noOutput, error) {
	r, err := s.iamRole(in.RoleName)
	if err != nil {
		return nil, err
	}
	if err := validatePolicyDocument(in.PolicyDocument); err != nil {
		return nil, err
	}
	r.AssumeRolePolicyDocument = in.PolicyDocument
	return nil, nil
}

type iamUpdateRoleInput struct {
	RoleName           string
	Description        *string
	MaxSessionDuration int
}

func (s *Server) iamUpdateRole(c *Call, in *iamUpdateRoleInput) (*noOutput, error) {
	r, err := s.iamRole(in.RoleName)
	if err != nil {
		return nil, err
	}
	if in.MaxSessionDuration != 0 {
		if in.MaxSessionDuration < 3600 || in.MaxSessionDuration > 43200 {
			return nil, errIAMValidation("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", in.MaxSessionDuration)
		}
		r.MaxSessionDuration = in.MaxSessionDuration
	}
	if in.Description != nil {
		r.Description = *in.Description
	}
	return nil, nil
}

type iamDeleteRoleInput struct{ RoleName string }

func (s *Server) iamDeleteRole(c *Call, in *iamDeleteRoleInput) (*noOutput, error) {
	r, err := s.iamRole(in.RoleName)
	if err != nil {
		return nil, err
	}
	if len(r.AttachedPolicies) > 0 || len(r.InlinePolicies) > 0 {
		return nil, errDeleteConflict("Cannot delete entity, must detach all policies first.")
	}
	for _, p := range s.world.IAM.InstanceProfiles {
		for _, name := range p.Roles {
			if strings.EqualFold(name, r.Name) {
				return nil, errDeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
			}
		}
	}
	delete(s.world.IAM.Roles, strings.ToLower(r.Name))
	s.log.Info("iam: deleted role", "role", r.ARN)
	return nil, nil
}
