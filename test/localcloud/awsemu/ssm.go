package awsemu

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SSMState is the Parameter Store. It starts with the public parameters that
// name the EKS-optimized AMIs, so that AMI discovery by alias works offline.
type SSMState struct {
	Parameters map[string]*SSMParameter `json:"parameters"`
}

// SSMParameter is one parameter and the versions it replaced.
type SSMParameter struct {
	Name         string    `json:"name"`
	Type         string    `json:"type"`
	Value        string    `json:"value"`
	DataType     string    `json:"dataType"`
	Description  string    `json:"description,omitempty"`
	Version      int64     `json:"version"`
	LastModified time.Time `json:"lastModified"`
	// History holds earlier versions, oldest first, so "name:3" selectors
	// keep resolving after an overwrite.
	History []SSMParameterVersion `json:"history,omitempty"`
}

// SSMParameterVersion is a superseded value of a parameter.
type SSMParameterVersion struct {
	Version      int64     `json:"version"`
	Type         string    `json:"type"`
	Value        string    `json:"value"`
	DataType     string    `json:"dataType"`
	LastModified time.Time `json:"lastModified"`
}

// ssmMaxVersions is how many versions AWS keeps per parameter.
const ssmMaxVersions = 100

func newSSMState(w *World) *SSMState {
	st := &SSMState{Parameters: map[string]*SSMParameter{}}
	if w.EC2 == nil {
		return st
	}
	for _, img := range w.EC2.Images {
		if img.SSMParameter == "" {
			continue
		}
		st.seed(img.SSMParameter, img.ID, "aws:ec2:image", img.CreationDate)
		// AL2023 parameters come in families: nodeadm-based tooling reads the
		// release version and image name next to the id.
		if img.Family == "al2023" && strings.HasSuffix(img.SSMParameter, "/image_id") {
			dir := strings.TrimSuffix(img.SSMParameter, "image_id")
			st.seed(dir+"image_name", img.Name, "text", img.CreationDate)
			st.seed(dir+"release_version", img.K8sVersion+".0-"+img.CreationDate.Format("20060102"), "text", img.CreationDate)
		}
	}
	return st
}

func (st *SSMState) seed(name, value, dataType string, at time.Time) {
	st.Parameters[name] = &SSMParameter{Name: name, Type: "String", Value: value, DataType: dataType, Version: 1, LastModified: at}
}

// set creates a parameter or replaces its value, keeping the old one in the history.
func (st *SSMState) set(name, typ, value, dataType, description string, now time.Time) *SSMParameter {
	p, ok := st.Parameters[name]
	if !ok {
		p = &SSMParameter{Name: name, Type: typ, Value: value, DataType: dataType, Description: description, Version: 1, LastModified: now}
		st.Parameters[name] = p
		return p
	}
	p.History = append(p.History, SSMParameterVersion{Version: p.Version, Type: p.Type, Value: p.Value, DataType: p.DataType, LastModified: p.LastModified})
	if len(p.History) > ssmMaxVersions-1 {
		p.History = p.History[len(p.History)-(ssmMaxVersions-1):]
	}
	p.Version++
	p.Type, p.Value, p.DataType, p.LastModified = typ, value, dataType, now
	if description != "" {
		p.Description = description
	}
	return p
}

// ssmParameterOut is the Parameter shape of the SSM JSON API.
type ssmParameterOut struct {
	ARN              string  `json:"ARN"`
	DataType         string  `json:"DataType"`
	LastModifiedDate float64 `json:"LastModifiedDate"`
	Name             string  `json:"Name"`
	Selector         string  `json:"Selector,omitempty"`
	Type             string  `json:"Type"`
	Value            string  `json:"Value"`
	Version          int64   `json:"Version"`
}

func ssmEpoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// ssmARN follows AWS: public parameters are owned by no account, and names
// without a leading slash get one in the ARN.
func ssmARN(region, name string) string {
	account := AccountID
	if strings.HasPrefix(name, "/aws/") {
		account = ""
	}
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", region, account, strings.TrimPrefix(name, "/"))
}

func ssmRegion(c *Call) string {
	if c.Region != "" {
		return c.Region
	}
	return c.server.world.Region
}

func (p *SSMParameter) out(region string) ssmParameterOut {
	return ssmParameterOut{ARN: ssmARN(region, p.Name), DataType: p.DataType, LastModifiedDate: ssmEpoch(p.LastModified),
		Name: p.Name, Type: p.Type, Value: p.Value, Version: p.Version}
}

var (
	ssmNameChars  = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)
	ssmAMIPattern = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
)

func errParameterNotFound(name string) *Error {
	return Errorf(400, "ParameterNotFound", "Parameter %s not found.", name)
}

// validateSSMName applies Parameter Store's naming rules.
func validateSSMName(name string) *Error {
	switch {
	case name == "":
		return errValidation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	case len(name) > 2048:
		return errValidation("Parameter name must be at most 2048 characters")
	case !ssmNameChars.MatchString(name):
		return errValidation("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive) and must only contain letters, numbers and the symbols .-_/ (%q)", name)
	case strings.Contains(name, "/") && !strings.HasPrefix(name, "/"):
		return errValidation("Parameter name must be a fully qualified name (a hierarchy must begin with a forward slash): %s", name)
	case strings.Count(name, "/") > 15:
		return Errorf(400, "HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of 15 levels: %s", name)
	}
	return nil
}

// lookup resolves a GetParameter(s) name: a plain name, an ARN, or
// name:version. Labels are not modelled, so a non-numeric selector never matches.
func (st *SSMState) lookup(ref string) (ssmParameterOutFn, *Error) {
	name := ref
	if strings.HasPrefix(name, "arn:") {
		if _, rest, ok := strings.Cut(name, ":parameter"); ok {
			name = rest
			if !strings.HasPrefix(name, "/") || strings.Count(name, "/") == 1 {
				name = strings.TrimPrefix(name, "/")
			}
		}
	}
	selector := ""
	if i := strings.LastIndex(name, ":"); i >= 0 {
		name, selector = name[:i], name[i+1:]
	}
	p, ok := st.Parameters[name]
	if !ok {
		return nil, errParameterNotFound(ref)
	}
	if selector == "" {
		return func(region string) ssmParameterOut { return p.out(region) }, nil
	}
	v, err := strconv.ParseInt(selector, 10, 64)
	if err != nil || v < 1 {
		return nil, Errorf(400, "ParameterVersionNotFound", "Systems Manager could not find version %s of %s.", selector, name)
	}
	if v == p.Version {
		return func(region string) ssmParameterOut {
			o := p.out(region)
			o.Selector = ":" + selector
			return o
		}, nil
	}
	for _, h := range p.History {
		if h.Version == v {
			return func(region string) ssmParameterOut {
				return ssmParameterOut{ARN: ssmARN(region, p.Name), DataType: h.DataType, LastModifiedDate: ssmEpoch(h.LastModified),
					Name: p.Name, Selector: ":" + selector, Type: h.Type, Value: h.Value, Version: h.Version}
			}, nil
		}
	}
	return nil, Errorf(400, "ParameterVersionNotFound", "Systems Manager could not find version %d of %s.", v, name)
}

type ssmParameterOutFn func(region string) ssmParameterOut

func (s *Server) registerSSM() {
	s.register("ssm", "GetParameter", protoJSON11, false, handle(s.ssmGetParameter))
	s.register("ssm", "GetParameters", protoJSON11, false, handle(s.ssmGetParameters))
	s.register("ssm", "GetParametersByPath", protoJSON11, false, handle(s.ssmGetParametersByPath))
	s.register("ssm", "PutParameter", protoJSON11, true, handle(s.ssmPutParameter))
	s.register("ssm", "DeleteParameter", protoJSON11, true, handle(s.ssmDeleteParameter))
	s.register("ssm", "DeleteParameters", protoJSON11, true, handle(s.ssmDeleteParameters))
}

type ssmGetParameterInput struct {
	Name           string
	WithDecryption bool
}

type ssmGetParameterOutput struct {
	Parameter ssmParameterOut
}

func (s *Server) ssmGetParameter(c *Call, in *ssmGetParameterInput) (*ssmGetParameterOutput, error) {
	if in.Name == "" {
		return nil, errValidation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	}
	get, err := s.world.SSM.lookup(in.Name)
	if err != nil {
		return nil, err
	}
	return &ssmGetParameterOutput{get(ssmRegion(c))}, nil
}

type ssmGetParametersInput struct {
	Names          []string
	WithDecryption bool
}

type ssmGetParametersOutput struct {
	Parameters        []ssmParameterOut
	InvalidParameters []string
}

func (s *Server) ssmGetParameters(c *Call, in *ssmGetParametersInput) (*ssmGetParametersOutput, error) {
	if len(in.Names) == 0 || len(in.Names) > 10 {
		return nil, errValidation("1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1")
	}
	out := ssmGetParametersOutput{Parameters: []ssmParameterOut{}, InvalidParameters: []string{}}
	seen := map[string]bool{}
	for _, ref := range in.Names {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		get, err := s.world.SSM.lookup(ref)
		if err != nil {
			// Unknown names and versions are reported, not failed: callers
			// batch lookups and expect partial answers.
			out.InvalidParameters = append(out.InvalidParameters, ref)
			continue
		}
		out.Parameters = append(out.Parameters, get(ssmRegion(c)))
	}
	return &out, nil
}

type ssmStringFilter struct {
	Key    string
	Option string
	Values []string
}

type ssmGetParametersByPathInput struct {
	Path             string
	Recursive        bool
	ParameterFilters []ssmStringFilter
	WithDecryption   bool
	MaxResults       *int
	NextToken        string
}

type ssmGetParametersByPathOutput struct {
	Parameters []ssmParameterOut
	NextToken  string `json:",omitempty"`
}

func (s *Server) ssmGetParametersByPath(c *Call, in *ssmGetParametersByPathInput) (*ssmGetParametersByPathOutput, error) {
	if in.Path == "" || !strings.HasPrefix(in.Path, "/") || len(in.Path) > 2048 {
		return nil, errValidation("The parameter path must begin with a forward slash (/): %q", in.Path)
	}
	limit := 10
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 10 {
			return nil, errValidation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10", *in.MaxResults)
		}
		limit = *in.MaxResults
	}
	for _, f := range in.ParameterFilters {
		switch f.Key {
		case "Type", "DataType":
		case "Label", "KeyId", "Tier", "Name", "Path":
			return nil, Errorf(400, "InvalidFilterKey", "The filter key %s is not supported by this emulator for GetParametersByPath", f.Key)
		default:
			return nil, Errorf(400, "InvalidFilterKey", "The following filter key is not valid: %s", f.Key)
		}
		if f.Option != "" && f.Option != "Equals" {
			return nil, Errorf(400, "InvalidFilterOption", "The filter option %s is not valid for key %s; valid options: Equals", f.Option, f.Key)
		}
		if len(f.Values) == 0 {
			return nil, Errorf(400, "InvalidFilterValue", "The filter %s needs at least one value", f.Key)
		}
	}
	after := ""
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil || !strings.HasPrefix(string(b), "after:") {
			return nil, Errorf(400, "InvalidNextToken", "The specified token is not valid.")
		}
		after = strings.TrimPrefix(string(b), "after:")
	}
	prefix := strings.TrimSuffix(in.Path, "/") + "/"
	var names []string
	for name, p := range s.world.SSM.Parameters {
		if !strings.HasPrefix(name, prefix) && !(prefix == "/" && !strings.HasPrefix(name, "/")) {
			continue
		}
		if !in.Recursive && strings.Contains(strings.TrimPrefix(name, prefix), "/") {
			continue
		}
		if !ssmFiltersMatch(in.ParameterFilters, p) {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	start := sort.SearchStrings(names, after)
	if after != "" && start < len(names) && names[start] == after {
		start++
	}
	out := ssmGetParametersByPathOutput{Parameters: []ssmParameterOut{}}
	end := min(start+limit, len(names))
	for _, name := range names[start:end] {
		out.Parameters = append(out.Parameters, s.world.SSM.Parameters[name].out(ssmRegion(c)))
	}
	if end < len(names) {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte("after:" + names[end-1]))
	}
	return &out, nil
}

func ssmFiltersMatch(filters []ssmStringFilter, p *SSMParameter) bool {
	for _, f := range filters {
		v := p.Type
		if f.Key == "DataType" {
			v = p.DataType
		}
		ok := false
		for _, want := range f.Values {
			ok = ok || want == v
		}
		if !ok {
			return false
		}
	}
	return true
}
