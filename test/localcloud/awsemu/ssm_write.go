package awsemu

import (
	"encoding/json"
	"fmt"
)

// SSM writes: PutParameter, DeleteParameter(s), and the local cloud's admin
// route that seeds a parameter.

type ssmPutParameterInput struct {
	Name        string
	Value       *string
	Type        string
	DataType    string
	Description string
	Overwrite   bool
	Tier        string
}

type ssmPutParameterOutput struct {
	Version int64
	Tier    string
}

func (s *Server) ssmPutParameter(c *Call, in *ssmPutParameterInput) (*ssmPutParameterOutput, error) {
	if err := validateSSMName(in.Name); err != nil {
		return nil, err
	}
	if in.Value == nil || *in.Value == "" {
		return nil, errValidation("1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	maxLen := 4096
	if in.Tier == "Advanced" || in.Tier == "Intelligent-Tiering" {
		maxLen = 8192
	}
	if len(*in.Value) > maxLen {
		return nil, errValidation("Standard tier parameters support a maximum parameter value of %d characters", maxLen)
	}
	existing := s.world.SSM.Parameters[in.Name]
	if existing != nil && !in.Overwrite {
		return nil, Errorf(400, "ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}
	if in.Type == "" {
		if existing == nil {
			return nil, errValidation("A parameter type is required when you create a parameter.")
		}
		in.Type = existing.Type
	}
	switch in.Type {
	case "String", "StringList", "SecureString":
	default:
		return nil, errValidation("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", in.Type)
	}
	switch in.DataType {
	case "":
		in.DataType = "text"
		if existing != nil {
			in.DataType = existing.DataType
		}
	case "text", "aws:ssm:integration":
	case "aws:ec2:image":
		if in.Type != "String" {
			return nil, errValidation("The data type aws:ec2:image is only valid for parameters of type String")
		}
	default:
		return nil, errValidation("The following data type is not supported: %s (valid: text, aws:ec2:image, aws:ssm:integration)", in.DataType)
	}
	if in.DataType == "aws:ec2:image" && !ssmAMIPattern.MatchString(*in.Value) {
		return nil, errValidation("Parameter value, %s, is not a valid AMI id for data type aws:ec2:image", *in.Value)
	}
	tier := in.Tier
	if tier == "" || tier == "Intelligent-Tiering" {
		tier = "Standard"
	}
	p := s.world.SSM.set(in.Name, in.Type, *in.Value, in.DataType, in.Description, s.clock.Now())
	return &ssmPutParameterOutput{p.Version, tier}, nil
}

type ssmDeleteParameterInput struct{ Name string }

type ssmDeleteParameterOutput struct{}

func (s *Server) ssmDeleteParameter(c *Call, in *ssmDeleteParameterInput) (*ssmDeleteParameterOutput, error) {
	if in.Name == "" {
		return nil, errValidation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	}
	if _, ok := s.world.SSM.Parameters[in.Name]; !ok {
		return nil, errParameterNotFound(in.Name)
	}
	delete(s.world.SSM.Parameters, in.Name)
	return &ssmDeleteParameterOutput{}, nil
}

type ssmDeleteParametersInput struct{ Names []string }

type ssmDeleteParametersOutput struct {
	DeletedParameters []string
	InvalidParameters []string
}

func (s *Server) ssmDeleteParameters(c *Call, in *ssmDeleteParametersInput) (*ssmDeleteParametersOutput, error) {
	if len(in.Names) == 0 || len(in.Names) > 10 {
		return nil, errValidation("1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1")
	}
	out := ssmDeleteParametersOutput{[]string{}, []string{}}
	for _, name := range in.Names {
		if _, ok := s.world.SSM.Parameters[name]; !ok {
			out.InvalidParameters = append(out.InvalidParameters, name)
			continue
		}
		delete(s.world.SSM.Parameters, name)
		out.DeletedParameters = append(out.DeletedParameters, name)
	}
	return &out, nil
}

// SetParameterRequest publishes a parameter value through the admin API, as
// AWS does when it releases a new AMI: no credentials, no overwrite flag.
type SetParameterRequest struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func adminSetParameter(s *Server, body []byte) (any, error) {
	var req SetParameterRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("parsing ssm/parameter request: %w", err)
	}
	if err := validateSSMName(req.Name); err != nil {
		return nil, fmt.Errorf("invalid parameter name: %s", err.Message)
	}
	if req.Value == "" {
		return nil, fmt.Errorf("value is required")
	}
	dataType := "text"
	if ssmAMIPattern.MatchString(req.Value) {
		dataType = "aws:ec2:image"
	}
	typ := "String"
	if p := s.world.SSM.Parameters[req.Name]; p != nil {
		typ = p.Type
	}
	p := s.world.SSM.set(req.Name, typ, req.Value, dataType, "", s.clock.Now())
	s.log.Info("ssm parameter set", "name", p.Name, "value", p.Value, "version", p.Version)
	return p.out(s.world.Region), nil
}

func init() {
	adminRoutes["POST ssm/parameter"] = adminSetParameter
}
