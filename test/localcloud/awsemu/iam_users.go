package awsemu

import (
	"sort"
	"strings"
)

// IAM users and their access keys: the long-lived identities a Terraform
// user or a CI job signs with. Users hold policies as roles do; the
// handlers for both go through policyHolder.

// IAMUser is an IAM user.
type IAMUser struct {
	Name                string            `json:"name"`
	Path                string            `json:"path"`
	ID                  string            `json:"id"`
	ARN                 string            `json:"arn"`
	CreateDate          string            `json:"createDate"`
	PermissionsBoundary string            `json:"permissionsBoundary"`
	Tags                []IAMTag          `json:"tags"`
	AttachedPolicies    []string          `json:"attachedPolicies"`
	InlinePolicies      map[string]string `json:"inlinePolicies"`
	AccessKeys          []*IAMAccessKey   `json:"accessKeys"`
}

// IAMAccessKey is a user's access key; the secret is only ever returned by
// CreateAccessKey, as in IAM.
type IAMAccessKey struct {
	ID         string `json:"id"`
	Secret     string `json:"secret"`
	Status     string `json:"status"` // Active | Inactive
	CreateDate string `json:"createDate"`
}

// policyHolder is a user or a role as the policy actions see it.
type policyHolder struct {
	kind     string // "user" or "role", for error messages
	name     string
	attached *[]string
	inline   *map[string]string
}

func (u *IAMUser) holder() policyHolder {
	return policyHolder{"user", u.Name, &u.AttachedPolicies, &u.InlinePolicies}
}

func (r *IAMRole) holder() policyHolder {
	return policyHolder{"role", r.Name, &r.AttachedPolicies, &r.InlinePolicies}
}

func (s *Server) registerIAMUsers(reg func(string, bool, func(*Call) (any, error))) {
	reg("CreateUser", true, handle(s.iamCreateUser))
	reg("GetUser", false, s.iamGetUser)
	reg("ListUsers", false, handle(s.iamListUsers))
	reg("DeleteUser", true, s.iamDeleteUser)
	reg("CreateAccessKey", true, s.iamCreateAccessKey)
	reg("ListAccessKeys", false, s.iamListAccessKeys)
	reg("UpdateAccessKey", true, s.iamUpdateAccessKey)
	reg("DeleteAccessKey", true, s.iamDeleteAccessKey)
	byUser := s.holderHandler(func(c *Call) (policyHolder, *Error) {
		u, err := s.iamUser(c.Form.Get("UserName"))
		if err != nil {
			return policyHolder{}, err
		}
		return u.holder(), nil
	})
	reg("AttachUserPolicy", true, byUser(s.attachPolicy))
	reg("DetachUserPolicy", true, byUser(s.detachPolicy))
	reg("ListAttachedUserPolicies", false, byUser(s.listAttachedPolicies))
	reg("PutUserPolicy", true, byUser(s.putInlinePolicy))
	reg("GetUserPolicy", false, byUser(s.getInlinePolicy))
	reg("DeleteUserPolicy", true, byUser(s.deleteInlinePolicy))
	reg("ListUserPolicies", false, byUser(s.listInlinePolicies))
}

func (s *Server) iamUser(name string) (*IAMUser, *Error) {
	if err := validateIAMName("UserName", name, 64); err != nil {
		return nil, err
	}
	u := s.world.IAM.Users[strings.ToLower(name)]
	if u == nil {
		return nil, errNoSuchEntity("The user with name %s cannot be found.", name)
	}
	return u, nil
}

type userXML struct {
	Path       string
	UserName   string
	UserId     string
	Arn        string
	CreateDate string
	Tags       []IAMTag `xml:"Tags>member,omitempty"`
}

func (u *IAMUser) xml() userXML {
	return userXML{u.Path, u.Name, u.ID, u.ARN, u.CreateDate, u.Tags}
}

type iamCreateUserInput struct {
	UserName            string
	Path                string
	PermissionsBoundary string
	Tags                []tagInput
}

type iamCreateUserOutput struct{ User userXML }

func (s *Server) iamCreateUser(c *Call, in *iamCreateUserInput) (*iamCreateUserOutput, error) {
	if err := validateIAMName("UserName", in.UserName, 64); err != nil {
		return nil, err
	}
	path, perr := defaultPath(in.Path)
	if perr != nil {
		return nil, perr
	}
	st := s.world.IAM
	if st.Users[strings.ToLower(in.UserName)] != nil {
		return nil, errEntityExists("User with name %s already exists.", in.UserName)
	}
	if in.PermissionsBoundary != "" {
		if _, _, err := st.policy(in.PermissionsBoundary); err != nil {
			return nil, err
		}
	}
	tags, terr := mergeTags(nil, in.Tags)
	if terr != nil {
		return nil, terr
	}
	u := &IAMUser{Name: in.UserName, Path: path, ID: iamID("AIDA"), ARN: "arn:aws:iam::" + AccountID + ":user" + path + in.UserName,
		CreateDate: iamTime(s.clock.Now()), PermissionsBoundary: in.PermissionsBoundary, Tags: tags, InlinePolicies: map[string]string{}}
	st.Users[strings.ToLower(u.Name)] = u
	s.log.Info("iam: created user", "user", u.ARN)
	return &iamCreateUserOutput{u.xml()}, nil
}

// iamGetUser without a name describes the caller, as IAM does for a user's
// own keys.
func (s *Server) iamGetUser(c *Call) (any, error) {
	name := c.Form.Get("UserName")
	if name == "" && c.Caller != nil {
		if c.Caller.User == nil {
			return nil, errIAMValidation("Must specify userName when calling with non-User credentials")
		}
		name = c.Caller.User.Name
	}
	u, err := s.iamUser(name)
	if err != nil {
		return nil, err
	}
	return struct{ User userXML }{u.xml()}, nil
}

type iamListUsersOutput struct {
	Users       []userXML `xml:"Users>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (s *Server) iamListUsers(c *Call, in *pathPageInput) (*iamListUsersOutput, error) {
	page, marker, truncated, err := pageByPath(in, s.world.IAM.Users, func(u *IAMUser) (string, string) { return u.Path, u.Name })
	if err != nil {
		return nil, err
	}
	out := iamListUsersOutput{Users: []userXML{}, IsTruncated: truncated, Marker: marker}
	for _, u := range page {
		out.Users = append(out.Users, u.xml())
	}
	return &out, nil
}

func (s *Server) iamDeleteUser(c *Call) (any, error) {
	u, err := s.iamUser(c.Form.Get("UserName"))
	if err != nil {
		return nil, err
	}
	// IAM refuses to delete a user that still has what would dangle.
	if len(u.AttachedPolicies) > 0 || len(u.InlinePolicies) > 0 || len(u.AccessKeys) > 0 {
		return nil, errDeleteConflict("Cannot delete entity, must delete policies and access keys first.")
	}
	delete(s.world.IAM.Users, strings.ToLower(u.Name))
	s.log.Info("iam: deleted user", "user", u.ARN)
	return nil, nil
}

type accessKeyXML struct {
	UserName        string
	AccessKeyId     string
	Status          string
	SecretAccessKey string `xml:",omitempty"`
	CreateDate      string
}

// userForKeys is the user an access-key action names, or the caller.
func (s *Server) userForKeys(c *Call) (*IAMUser, *Error) {
	name := c.Form.Get("UserName")
	if name == "" && c.Caller != nil && c.Caller.User != nil {
		name = c.Caller.User.Name
	}
	return s.iamUser(name)
}

func (s *Server) iamCreateAccessKey(c *Call) (any, error) {
	u, err := s.userForKeys(c)
	if err != nil {
		return nil, err
	}
	if len(u.AccessKeys) >= 2 {
		return nil, errLimitExceeded("Cannot exceed quota for AccessKeysPerUser: 2")
	}
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	const mixed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	k := &IAMAccessKey{ID: "AKIA" + stsRandom(upper, 16), Secret: stsRandom(mixed, 40), Status: "Active", CreateDate: iamTime(s.clock.Now())}
	u.AccessKeys = append(u.AccessKeys, k)
	s.log.Info("iam: created access key", "user", u.ARN, "accessKeyId", k.ID)
	return struct{ AccessKey accessKeyXML }{accessKeyXML{u.Name, k.ID, k.Status, k.Secret, k.CreateDate}}, nil
}

func (s *Server) iamListAccessKeys(c *Call) (any, error) {
	u, err := s.userForKeys(c)
	if err != nil {
		return nil, err
	}
	out := struct {
		AccessKeyMetadata []accessKeyXML `xml:"AccessKeyMetadata>member"`
		IsTruncated       bool
	}{AccessKeyMetadata: []accessKeyXML{}}
	for _, k := range u.AccessKeys {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, accessKeyXML{UserName: u.Name, AccessKeyId: k.ID, Status: k.Status, CreateDate: k.CreateDate})
	}
	return out, nil
}

func (s *Server) accessKey(c *Call) (*IAMUser, int, *Error) {
	u, err := s.userForKeys(c)
	if err != nil {
		return nil, 0, err
	}
	id := c.Form.Get("AccessKeyId")
	for i, k := range u.AccessKeys {
		if k.ID == id {
			return u, i, nil
		}
	}
	return nil, 0, errNoSuchEntity("The Access Key with id %s cannot be found.", id)
}

func (s *Server) iamUpdateAccessKey(c *Call) (any, error) {
	u, i, err := s.accessKey(c)
	if err != nil {
		return nil, err
	}
	status := c.Form.Get("Status")
	if status != "Active" && status != "Inactive" {
		return nil, errIAMValidation("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	u.AccessKeys[i].Status = status
	return nil, nil
}

func (s *Server) iamDeleteAccessKey(c *Call) (any, error) {
	u, i, err := s.accessKey(c)
	if err != nil {
		return nil, err
	}
	s.log.Info("iam: deleted access key", "user", u.ARN, "accessKeyId", u.AccessKeys[i].ID)
	u.AccessKeys = append(u.AccessKeys[:i], u.AccessKeys[i+1:]...)
	return nil, nil
}

// --- policies on users and roles ---

// holderHandler makes a handler of h for the user or role lookup finds.
func (s *Server) holderHandler(lookup func(*Call) (policyHolder, *Error)) func(func(*Call, policyHolder) (any, error)) func(*Call) (any, error) {
	return func(h func(*Call, policyHolder) (any, error)) func(*Call) (any, error) {
		return func(c *Call) (any, error) {
			holder, err := lookup(c)
			if err != nil {
				return nil, err
			}
			return h(c, holder)
		}
	}
}

func (s *Server) attachPolicy(c *Call, h policyHolder) (any, error) {
	p, _, err := s.world.IAM.policy(c.Form.Get("PolicyArn"))
	if err != nil {
		return nil, err
	}
	for _, a := range *h.attached {
		if a == p.ARN {
			return nil, nil // attaching twice is a no-op in IAM
		}
	}
	if len(*h.attached) >= 10 {
		return nil, errLimitExceeded("Cannot exceed quota for PoliciesPer%s: 10", strings.ToUpper(h.kind[:1])+h.kind[1:])
	}
	*h.attached = append(*h.attached, p.ARN)
	return nil, nil
}

func (s *Server) detachPolicy(c *Call, h policyHolder) (any, error) {
	arn := c.Form.Get("PolicyArn")
	for i, a := range *h.attached {
		if a == arn {
			*h.attached = append((*h.attached)[:i], (*h.attached)[i+1:]...)
			return nil, nil
		}
	}
	return nil, errNoSuchEntity("Policy %s was not found.", arn)
}

func (s *Server) listAttachedPolicies(c *Call, h policyHolder) (any, error) {
	pg := pageFromForm(c)
	type attached struct {
		PolicyName string
		PolicyArn  string
	}
	var all []attached
	for _, a := range *h.attached {
		p, _, perr := s.world.IAM.policy(a)
		if perr != nil || !strings.HasPrefix(p.Path, c.Form.Get("PathPrefix")) {
			continue
		}
		all = append(all, attached{p.Name, p.ARN})
	}
	page, marker, truncated, err := paginate(all, pg.Marker, pg.MaxItems)
	if err != nil {
		return nil, err
	}
	return struct {
		AttachedPolicies []attached `xml:"AttachedPolicies>member"`
		IsTruncated      bool
		Marker           string `xml:",omitempty"`
	}{page, truncated, marker}, nil
}

func (s *Server) putInlinePolicy(c *Call, h policyHolder) (any, error) {
	name, doc := c.Form.Get("PolicyName"), c.Form.Get("PolicyDocument")
	if err := validateIAMName("PolicyName", name, 128); err != nil {
		return nil, err
	}
	if err := validatePolicyDocument(doc); err != nil {
		return nil, err
	}
	if *h.inline == nil {
		*h.inline = map[string]string{}
	}
	(*h.inline)[name] = doc
	return nil, nil
}

func (s *Server) getInlinePolicy(c *Call, h policyHolder) (any, error) {
	name := c.Form.Get("PolicyName")
	doc, ok := (*h.inline)[name]
	if !ok {
		return nil, errNoSuchEntity("The %s policy with name %s cannot be found.", h.kind, name)
	}
	if h.kind == "user" {
		return struct {
			UserName       string
			PolicyName     string
			PolicyDocument string
		}{h.name, name, iamEncode(doc)}, nil
	}
	return struct {
		RoleName       string
		PolicyName     string
		PolicyDocument string
	}{h.name, name, iamEncode(doc)}, nil
}

func (s *Server) deleteInlinePolicy(c *Call, h policyHolder) (any, error) {
	name := c.Form.Get("PolicyName")
	if _, ok := (*h.inline)[name]; !ok {
		return nil, errNoSuchEntity("The %s policy with name %s cannot be found.", h.kind, name)
	}
	delete(*h.inline, name)
	return nil, nil
}

func (s *Server) listInlinePolicies(c *Call, h policyHolder) (any, error) {
	pg := pageFromForm(c)
	names := make([]string, 0, len(*h.inline))
	for n := range *h.inline {
		names = append(names, n)
	}
	sort.Strings(names)
	page, marker, truncated, err := paginate(names, pg.Marker, pg.MaxItems)
	if err != nil {
		return nil, err
	}
	return struct {
		PolicyNames []string `xml:"PolicyNames>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{page, truncated, marker}, nil
}
