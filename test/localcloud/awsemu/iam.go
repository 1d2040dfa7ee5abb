package awsemu

import (
	"crypto/rand"
	"encoding/json"
	"net/url"
	"regexp"
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
