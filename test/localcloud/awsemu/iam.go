package awsemu

import (
	"crypto/rand"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// IAMState is the simulated IAM service's state. IAM is global, so the same
// state answers whatever region a client signs for. Roles and instance
// profiles are keyed by lower-cased name because IAM names are unique
// regardless of case; customer policies and OIDC providers by ARN.
type IAMState struct {
	Roles            map[string]*IAMRole            `json:"roles"`
	Policies         map[string]*IAMPolicy          `json:"policies"`
	InstanceProfiles map[string]*IAMInstanceProfile `json:"instanceProfiles"`
	OIDCProviders    map[string]*IAMOIDCProvider    `json:"oidcProviders"`
	Users            map[string]*IAMUser            `json:"users"`
}

// IAMTag is an IAM tag; IAM keeps tags in the order they were added.
type IAMTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// IAMRole is an IAM role.
type IAMRole struct {
	Name                     string    `json:"name"`
	Path                     string    `json:"path"`
	ID                       string    `json:"id"`
	ARN                      string    `json:"arn"`
	CreateDate               time.Time `json:"createDate"`
	AssumeRolePolicyDocument string    `json:"assumeRolePolicyDocument"`
	Description              string    `json:"description"`
	MaxSessionDuration       int       `json:"maxSessionDuration"`
	PermissionsBoundary      string    `json:"permissionsBoundary"`
	Tags                     []IAMTag  `json:"tags"`
	// AttachedPolicies holds managed policy ARNs in attachment order.
	AttachedPolicies []string `json:"attachedPolicies"`
	// InlinePolicies maps policy name to its JSON document.
	InlinePolicies map[string]string `json:"inlinePolicies"`
}

// IAMPolicy is a customer-managed policy (AWS-managed ones are built in).
type IAMPolicy struct {
	Name           string              `json:"name"`
	Path           string              `json:"path"`
	ID             string              `json:"id"`
	ARN            string              `json:"arn"`
	Description    string              `json:"description"`
	CreateDate     time.Time           `json:"createDate"`
	UpdateDate     time.Time           `json:"updateDate"`
	DefaultVersion string              `json:"defaultVersion"`
	Versions       []*IAMPolicyVersion `json:"versions"`
	// NextVersion numbers new versions: IAM never reuses a version id.
	NextVersion int      `json:"nextVersion"`
	Tags        []IAMTag `json:"tags"`
}

// IAMPolicyVersion is one version of a managed policy.
type IAMPolicyVersion struct {
	ID         string    `json:"id"`
	Document   string    `json:"document"`
	CreateDate time.Time `json:"createDate"`
}

// IAMInstanceProfile is an instance profile; it holds at most one role.
type IAMInstanceProfile struct {
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	ID         string    `json:"id"`
	ARN        string    `json:"arn"`
	CreateDate time.Time `json:"createDate"`
	Roles      []string  `json:"roles"` // role names
	Tags       []IAMTag  `json:"tags"`
}

// IAMOIDCProvider is an OpenID Connect identity provider.
type IAMOIDCProvider struct {
	ARN            string    `json:"arn"`
	URL            string    `json:"url"` // without the https:// scheme, as IAM reports it
	ClientIDs      []string  `json:"clientIds"`
	Thumbprints    []string  `json:"thumbprints"`
	CreateDate     time.Time `json:"createDate"`
	Tags           []IAMTag  `json:"tags"`
	LastModifiedAt time.Time `json:"lastModifiedAt"`
}

func newIAMState(w *World) *IAMState {
	return &IAMState{
		Roles:            map[string]*IAMRole{},
		Policies:         map[string]*IAMPolicy{},
		InstanceProfiles: map[string]*IAMInstanceProfile{},
		OIDCProviders:    map[string]*IAMOIDCProvider{},
		Users:            map[string]*IAMUser{},
	}
}

// RoleByARN returns the role an ARN names, or nil.
func (st *IAMState) RoleByARN(arn string) *IAMRole {
	i := strings.LastIndex(arn, "/")
	if !strings.HasPrefix(arn, "arn:aws:iam::"+AccountID+":role/") || i < 0 {
		return nil
	}
	r := st.Roles[strings.ToLower(arn[i+1:])]
	if r == nil || r.ARN != arn {
		return nil
	}
	return r
}

// InstanceProfile returns the profile named by name or ARN (as EC2's
// IamInstanceProfile accepts either), or nil.
func (st *IAMState) InstanceProfile(nameOrARN string) *IAMInstanceProfile {
	name := nameOrARN
	if strings.HasPrefix(nameOrARN, "arn:") {
		name = nameOrARN[strings.LastIndex(nameOrARN, "/")+1:]
	}
	p := st.InstanceProfiles[strings.ToLower(name)]
	if p == nil || (strings.HasPrefix(nameOrARN, "arn:") && p.ARN != nameOrARN) {
		return nil
	}
	return p
}

// awsManagedPolicy describes a built-in AWS-managed policy.
type awsManagedPolicy struct {
	name, path, description, document string
}

// awsManagedPolicies are the AWS-managed policies nodes and controllers
// attach. Their documents are abbreviated: only attachment is simulated.
var awsManagedPolicies = []awsManagedPolicy{
	{"AmazonEKSWorkerNodePolicy", "/", "Allows EKS worker nodes to connect to EKS clusters",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeInstances","ec2:DescribeRouteTables","ec2:DescribeSecurityGroups","ec2:DescribeSubnets","ec2:DescribeVolumes","ec2:DescribeVolumesModifications","ec2:DescribeVpcs","eks:DescribeCluster","eks-auth:AssumeRoleForPodIdentity"],"Resource":"*"}]}`},
	{"AmazonEKSWorkerNodeMinimalPolicy", "/", "Minimal permissions for EKS worker nodes",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["eks:DescribeCluster","eks-auth:AssumeRoleForPodIdentity"],"Resource":"*"}]}`},
	{"AmazonEKS_CNI_Policy", "/", "Permissions the Amazon VPC CNI plugin needs",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:AssignPrivateIpAddresses","ec2:AttachNetworkInterface","ec2:CreateNetworkInterface","ec2:DeleteNetworkInterface","ec2:DescribeInstances","ec2:DescribeNetworkInterfaces","ec2:DetachNetworkInterface","ec2:ModifyNetworkInterfaceAttribute","ec2:UnassignPrivateIpAddresses"],"Resource":"*"},{"Effect":"Allow","Action":["ec2:CreateTags"],"Resource":["arn:aws:ec2:*:*:network-interface/*"]}]}`},
	{"AmazonEKSClusterPolicy", "/", "Permissions the EKS control plane needs",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","elasticloadbalancing:*","kms:DescribeKey"],"Resource":"*"}]}`},
	{"AmazonEC2ContainerRegistryReadOnly", "/", "Read-only access to Amazon ECR",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:GetRepositoryPolicy","ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages","ecr:BatchGetImage"],"Resource":"*"}]}`},
	{"AmazonEC2ContainerRegistryPullOnly", "/", "Pull-only access to Amazon ECR",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchImportUpstreamImage"],"Resource":"*"}]}`},
	{"AmazonSSMManagedInstanceCore", "/", "Core Systems Manager functionality for EC2 instances",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:DescribeAssociation","ssm:GetDocument","ssm:UpdateInstanceInformation","ssmmessages:*","ec2messages:*"],"Resource":"*"}]}`},
	{"AmazonEBSCSIDriverPolicy", "/service-role/", "Permissions the EBS CSI driver needs",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:CreateVolume","ec2:AttachVolume","ec2:DetachVolume","ec2:DeleteVolume","ec2:Describe*"],"Resource":"*"}]}`},
	{"AdministratorAccess", "/", "Provides full access to AWS services and resources.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
}

// awsManagedCreated is the fixed creation date of the built-in policies.
var awsManagedCreated = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)

func awsManagedPolicyARN(p awsManagedPolicy) string {
	return "arn:aws:iam::aws:policy" + p.path + p.name
}

// builtinPolicy returns the AWS-managed policy with this ARN as an IAMPolicy, or nil.
func builtinPolicy(arn string) *IAMPolicy {
	for i, p := range awsManagedPolicies {
		if awsManagedPolicyARN(p) != arn {
			continue
		}
		return &IAMPolicy{
			Name: p.name, Path: p.path, ARN: arn, Description: p.description,
			ID: "ANPAAWSMANAGED" + strconv.Itoa(1000000+i), CreateDate: awsManagedCreated, UpdateDate: awsManagedCreated,
			DefaultVersion: "v1", NextVersion: 2,
			Versions: []*IAMPolicyVersion{{ID: "v1", Document: p.document, CreateDate: awsManagedCreated}},
		}
	}
	return nil
}

// policy finds a managed policy; builtin reports an AWS-managed one, which
// callers must not modify.
func (st *IAMState) policy(arn string) (p *IAMPolicy, builtin bool, err *Error) {
	if p := st.Policies[arn]; p != nil {
		return p, false, nil
	}
	if p := builtinPolicy(arn); p != nil {
		return p, true, nil
	}
	if !strings.HasPrefix(arn, "arn:aws:iam::") {
		return nil, false, errInvalidInput("ARN %s is not valid.", arn)
	}
	return nil, false, errNoSuchEntity("Policy %s does not exist or is not attachable.", arn)
}

func (st *IAMState) attachmentCount(arn string) int {
	n := 0
	for _, r := range st.Roles {
		for _, a := range r.AttachedPolicies {
			if a == arn {
				n++
			}
		}
	}
	return n
}

func errNoSuchEntity(format string, args ...any) *Error {
	return Errorf(404, "NoSuchEntity", format, args...)
}

func errEntityExists(format string, args ...any) *Error {
	return Errorf(409, "EntityAlreadyExists", format, args...)
}

func errDeleteConflict(format string, args ...any) *Error {
	return Errorf(409, "DeleteConflict", format, args...)
}

func errLimitExceeded(format string, args ...any) *Error {
	return Errorf(409, "LimitExceeded", format, args...)
}

func errInvalidInput(format string, args ...any) *Error {
	return Errorf(400, "InvalidInput", format, args...)
}

// errIAMValidation is the query protocol's constraint-violation error
// (JSON services call it ValidationException).
func errIAMValidation(format string, args ...any) *Error {
	return Errorf(400, "ValidationError", format, args...)
}

var (
	iamNameRE = regexp.MustCompile(`^[\w+=,.@-]+$`)
	iamPathRE = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
)

func validateIAMName(field, name string, max int) *Error {
	if name == "" {
		return errIAMValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(field))
	}
	if len(name) > max || !iamNameRE.MatchString(name) {
		return errIAMValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length less than or equal to %d", name, lowerFirst(field), max)
	}
	return nil
}

// defaultPath validates an IAM path, defaulting to "/".
func defaultPath(path string) (string, *Error) {
	if path == "" {
		return "/", nil
	}
	if len(path) > 512 || !iamPathRE.MatchString(path) {
		return "", errIAMValidation("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return path, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// validatePolicyDocument checks what IAM checks before storing a policy:
// a JSON object with at least one statement, each with a valid Effect.
func validatePolicyDocument(doc string) *Error {
	if strings.TrimSpace(doc) == "" {
		return errIAMValidation("1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null")
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return Errorf(400, "MalformedPolicyDocument", "This policy contains invalid Json")
	}
	if v, ok := p["Version"]; ok {
		var s string
		if json.Unmarshal(v, &s) != nil || (s != "2012-10-17" && s != "2008-10-17") {
			return Errorf(400, "MalformedPolicyDocument", "The policy failed legacy parsing")
		}
	}
	raw, ok := p["Statement"]
	if !ok {
		return Errorf(400, "MalformedPolicyDocument", "Syntax errors in policy.")
	}
	var stmts []map[string]json.RawMessage
	if json.Unmarshal(raw, &stmts) != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(raw, &one) != nil {
			return Errorf(400, "MalformedPolicyDocument", "Syntax errors in policy.")
		}
		stmts = append(stmts, one)
	}
	if len(stmts) == 0 {
		return Errorf(400, "MalformedPolicyDocument", "Syntax errors in policy.")
	}
	for _, st := range stmts {
		var effect string
		if json.Unmarshal(st["Effect"], &effect) != nil || (effect != "Allow" && effect != "Deny") {
			return Errorf(400, "MalformedPolicyDocument", "Policy statement must contain an Effect of Allow or Deny.")
		}
		_, hasAction := st["Action"]
		_, hasNotAction := st["NotAction"]
		if !hasAction && !hasNotAction {
			return Errorf(400, "MalformedPolicyDocument", "Policy statement must contain actions.")
		}
	}
	return nil
}

// iamEncode percent-encodes a policy document the way IAM returns them (RFC 3986, spaces as %20).
func iamEncode(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// iamID returns an IAM unique id: a four-letter type prefix and 17 characters.
func iamID(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [17]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b[:])
}

func iamTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// --- XML shapes ---

type xmlTag struct {
	Key   string
	Value string
}

func iamTagsXML(tags []IAMTag) []xmlTag {
	out := make([]xmlTag, 0, len(tags))
	for _, t := range tags {
		out = append(out, xmlTag(t))
	}
	return out
}

type tagInput struct {
	Key   string
	Value string
}

// mergeTags upserts tags, keeping IAM's limit of 50 per resource.
func mergeTags(have []IAMTag, add []tagInput) ([]IAMTag, *Error) {
	out := append([]IAMTag(nil), have...)
	for _, t := range add {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return nil, errIAMValidation("1 validation error detected: Value '%s' at 'tags' failed to satisfy constraint: Tag keys must be 1-128 characters and values at most 256", t.Key)
		}
		found := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, found = t.Value, true
			}
		}
		if !found {
			out = append(out, IAMTag(t))
		}
	}
	if len(out) > 50 {
		return nil, errLimitExceeded("The number of tags has reached the maximum limit.")
	}
	return out, nil
}

func removeTags(have []IAMTag, keys []string) []IAMTag {
	out := have[:0:0]
	for _, t := range have {
		drop := false
		for _, k := range keys {
			drop = drop || k == t.Key
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

type boundaryXML struct {
	PermissionsBoundaryType string
	PermissionsBoundaryArn  string
}

type roleXML struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string       `xml:",omitempty"`
	Description              string       `xml:",omitempty"`
	MaxSessionDuration       int          `xml:",omitempty"`
	PermissionsBoundary      *boundaryXML `xml:",omitempty"`
	Tags                     []xmlTag     `xml:"Tags>member,omitempty"`
}

func (r *IAMRole) xml() roleXML {
	out := roleXML{
		Path: r.Path, RoleName: r.Name, RoleId: r.ID, Arn: r.ARN, CreateDate: iamTime(r.CreateDate),
		AssumeRolePolicyDocument: iamEncode(r.AssumeRolePolicyDocument), Description: r.Description,
		MaxSessionDuration: r.MaxSessionDuration, Tags: iamTagsXML(r.Tags),
	}
	if r.PermissionsBoundary != "" {
		out.PermissionsBoundary = &boundaryXML{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: r.PermissionsBoundary}
	}
	return out
}

type policyXML struct {
	PolicyName                    string
	PolicyId                      string
	Arn                           string
	Path                          string
	DefaultVersionId              string
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	Description                   string `xml:",omitempty"`
	CreateDate                    string
	UpdateDate                    string
	Tags                          []xmlTag `xml:"Tags>member,omitempty"`
}

func (st *IAMState) policyXML(p *IAMPolicy) policyXML {
	bounds := 0
	for _, r := range st.Roles {
		if r.PermissionsBoundary == p.ARN {
			bounds++
		}
	}
	return policyXML{
		PolicyName: p.Name, PolicyId: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionId: p.DefaultVersion,
		AttachmentCount: st.attachmentCount(p.ARN), PermissionsBoundaryUsageCount: bounds, IsAttachable: true,
		Description: p.Description, CreateDate: iamTime(p.CreateDate), UpdateDate: iamTime(p.UpdateDate), Tags: iamTagsXML(p.Tags),
	}
}

type policyVersionXML struct {
	Document         string `xml:",omitempty"`
	VersionId        string
	IsDefaultVersion bool
	CreateDate       string
}

func versionXML(p *IAMPolicy, v *IAMPolicyVersion, withDoc bool) policyVersionXML {
	out := policyVersionXML{VersionId: v.ID, IsDefaultVersion: v.ID == p.DefaultVersion, CreateDate: iamTime(v.CreateDate)}
	if withDoc {
		out.Document = iamEncode(v.Document)
	}
	return out
}

type instanceProfileXML struct {
	Path                string
	InstanceProfileName string
	InstanceProfileId   string
	Arn                 string
	CreateDate          string
	Roles               []roleXML `xml:"Roles>member"`
	Tags                []xmlTag  `xml:"Tags>member,omitempty"`
}

func (st *IAMState) profileXML(p *IAMInstanceProfile) instanceProfileXML {
	out := instanceProfileXML{
		Path: p.Path, InstanceProfileName: p.Name, InstanceProfileId: p.ID, Arn: p.ARN,
		CreateDate: iamTime(p.CreateDate), Roles: []roleXML{}, Tags: iamTagsXML(p.Tags),
	}
	for _, name := range p.Roles {
		if r := st.Roles[strings.ToLower(name)]; r != nil {
			out.Roles = append(out.Roles, r.xml())
		}
	}
	return out
}

// paginate applies IAM's Marker/MaxItems paging; the marker is the index
// of the next item.
func paginate[T any](items []T, marker string, maxItems int) ([]T, string, bool, *Error) {
	start := 0
	if marker != "" {
		n, err := strconv.Atoi(marker)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", false, errInvalidInput("Invalid Marker.")
		}
		start = n
	}
	if maxItems <= 0 {
		maxItems = 100
	}
	if maxItems > 1000 {
		return nil, "", false, errIAMValidation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000", maxItems)
	}
	end := min(start+maxItems, len(items))
	if end < len(items) {
		return items[start:end], strconv.Itoa(end), true, nil
	}
	return items[start:end], "", false, nil
}

type pageInput struct {
	Marker   string
	MaxItems int
}

func (s *Server) registerIAM() {
	reg := func(action string, mutates bool, h func(*Call) (any, error)) {
		s.register("iam", action, protoQuery, mutates, h)
	}
	reg("CreateRole", true, s.iamCreateRole)
	reg("GetRole", false, s.iamGetRole)
	reg("ListRoles", false, s.iamListRoles)
	reg("UpdateAssumeRolePolicy", true, s.iamUpdateAssumeRolePolicy)
	reg("UpdateRole", true, s.iamUpdateRole)
	reg("TagRole", true, s.iamTagRole)
	reg("UntagRole", true, s.iamUntagRole)
	reg("ListRoleTags", false, s.iamListRoleTags)
	reg("DeleteRole", true, s.iamDeleteRole)
	reg("PutRolePermissionsBoundary", true, s.iamPutRolePermissionsBoundary)
	reg("DeleteRolePermissionsBoundary", true, s.iamDeleteRolePermissionsBoundary)

	reg("CreatePolicy", true, s.iamCreatePolicy)
	reg("GetPolicy", false, s.iamGetPolicy)
	reg("ListPolicies", false, s.iamListPolicies)
	reg("CreatePolicyVersion", true, s.iamCreatePolicyVersion)
	reg("GetPolicyVersion", false, s.iamGetPolicyVersion)
	reg("ListPolicyVersions", false, s.iamListPolicyVersions)
	reg("DeletePolicyVersion", true, s.iamDeletePolicyVersion)
	reg("SetDefaultPolicyVersion", true, s.iamSetDefaultPolicyVersion)
	reg("DeletePolicy", true, s.iamDeletePolicy)
	reg("TagPolicy", true, s.iamTagPolicy)

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

func (s *Server) iamCreateRole(c *Call) (any, error) {
	var in struct {
		RoleName                 string
		Path                     string
		AssumeRolePolicyDocument string
		Description              string
		MaxSessionDuration       int
		PermissionsBoundary      string
		Tags                     []tagInput
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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
	return roleResult{Role: r.xml()}, nil
}

func (s *Server) iamGetRole(c *Call) (any, error) {
	var in struct{ RoleName string }
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iamRole(in.RoleName)
	if err != nil {
		return nil, err
	}
	return roleResult{Role: r.xml()}, nil
}

func (s *Server) iamListRoles(c *Call) (any, error) {
	page, marker, truncated, err := pageByPath(c, s.world.IAM.Roles, func(r *IAMRole) (string, string) { return r.Path, r.Name })
	if err != nil {
		return nil, err
	}
	out := struct {
		Roles       []roleXML `xml:"Roles>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{Roles: []roleXML{}, IsTruncated: truncated, Marker: marker}
	for _, r := range page {
		out.Roles = append(out.Roles, r.xml())
	}
	return out, nil
}

// pageByPath is one page of a List action over IAM entities: those under
// PathPrefix, in name order (IAM compares names without case).
func pageByPath[T any](c *Call, all map[string]*T, pathAndName func(*T) (string, string)) ([]*T, string, bool, error) {
	var in struct {
		PathPrefix string
		Marker     string
		MaxItems   int
	}
	if err := c.Decode(&in); err != nil {
		return nil, "", false, err
	}
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

func (s *Server) iamUpdateAssumeRolePolicy(c *Call) (any, error) {
	var in struct {
		RoleName       string
		PolicyDocument string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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

func (s *Server) iamUpdateRole(c *Call) (any, error) {
	var in struct {
		RoleName           string
		Description        *string
		MaxSessionDuration int
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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

func (s *Server) iamTagRole(c *Call) (any, error) {
	var in struct {
		RoleName string
		Tags     []tagInput
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iamRole(in.RoleName)
	if err != nil {
		return nil, err
	}
	tags, terr := mergeTags(r.Tags, in.Tags)
	if terr != nil {
		return nil, terr
	}
	r.Tags = tags
	return nil, nil
}

func (s *Server) iamUntagRole(c *Call) (any, error) {
	var in struct {
		RoleName string
		TagKeys  []string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iamRole(in.RoleName)
	if err != nil {
		return nil, err
	}
	r.Tags = removeTags(r.Tags, in.TagKeys)
	return nil, nil
}

type tagsResult struct {
	Tags        []xmlTag `xml:"Tags>member"`
	IsTruncated bool
}

func (s *Server) iamListRoleTags(c *Call) (any, error) {
	var in struct{ RoleName string }
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	r, err := s.iamRole(in.RoleName)
	if err != nil {
		return nil, err
	}
	return tagsResult{Tags: iamTagsXML(r.Tags)}, nil
}

func (s *Server) iamDeleteRole(c *Call) (any, error) {
	var in struct{ RoleName string }
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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

// --- managed policies ---

type policyResult struct {
	Policy policyXML
}

func (s *Server) iamCreatePolicy(c *Call) (any, error) {
	var in struct {
		PolicyName     string
		Path           string
		PolicyDocument string
		Description    string
		Tags           []tagInput
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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
	return policyResult{Policy: st.policyXML(p)}, nil
}

func (s *Server) iamGetPolicy(c *Call) (any, error) {
	var in struct{ PolicyArn string }
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	p, _, err := s.world.IAM.policy(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	return policyResult{Policy: s.world.IAM.policyXML(p)}, nil
}

func (s *Server) iamListPolicies(c *Call) (any, error) {
	var in struct {
		Scope        string
		OnlyAttached bool
		PathPrefix   string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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
	out := struct {
		Policies    []policyXML `xml:"Policies>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}{Policies: []policyXML{}, IsTruncated: truncated, Marker: marker}
	for _, p := range page {
		x := st.policyXML(p)
		x.Tags = nil // ListPolicies does not return tags
		out.Policies = append(out.Policies, x)
	}
	return out, nil
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

func (s *Server) iamCreatePolicyVersion(c *Call) (any, error) {
	var in struct {
		PolicyArn      string
		PolicyDocument string
		SetAsDefault   bool
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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
	return struct{ PolicyVersion policyVersionXML }{versionXML(p, v, false)}, nil
}

func (s *Server) iamGetPolicyVersion(c *Call) (any, error) {
	var in struct {
		PolicyArn string
		VersionId string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	p, _, err := s.world.IAM.policy(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	v := p.version(in.VersionId)
	if v == nil {
		return nil, errNoSuchEntity("Policy %s version %s does not exist or is not attachable.", in.PolicyArn, in.VersionId)
	}
	return struct{ PolicyVersion policyVersionXML }{versionXML(p, v, true)}, nil
}

func (s *Server) iamListPolicyVersions(c *Call) (any, error) {
	var in struct{ PolicyArn string }
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	p, _, err := s.world.IAM.policy(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	out := struct {
		Versions    []policyVersionXML `xml:"Versions>member"`
		IsTruncated bool
	}{}
	// IAM lists the newest version first.
	for i := len(p.Versions) - 1; i >= 0; i-- {
		out.Versions = append(out.Versions, versionXML(p, p.Versions[i], false))
	}
	return out, nil
}

func (s *Server) iamDeletePolicyVersion(c *Call) (any, error) {
	var in struct {
		PolicyArn string
		VersionId string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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

func (s *Server) iamSetDefaultPolicyVersion(c *Call) (any, error) {
	var in struct {
		PolicyArn string
		VersionId string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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

func (s *Server) iamDeletePolicy(c *Call) (any, error) {
	var in struct{ PolicyArn string }
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
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

func (s *Server) iamTagPolicy(c *Call) (any, error) {
	var in struct {
		PolicyArn string
		Tags      []tagInput
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	p, err := s.customerPolicy(in.PolicyArn)
	if err != nil {
		return nil, err
	}
	tags, terr := mergeTags(p.Tags, in.Tags)
	if terr != nil {
		return nil, terr
	}
	p.Tags = tags
	return nil, nil
}
