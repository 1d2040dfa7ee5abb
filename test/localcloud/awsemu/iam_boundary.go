package awsemu

// Permissions boundaries on roles, set and removed after creation.

type iamPutRolePermissionsBoundaryInput struct {
	RoleName            string
	PermissionsBoundary string
}

func (s *Server) iamPutRolePermissionsBoundary(c *Call, in *iamPutRolePermissionsBoundaryInput) (*noOutput, error) {
	r, err := s.iamRole(in.RoleName)
	if err != nil {
		return nil, err
	}
	if in.PermissionsBoundary == "" {
		return nil, errIAMValidation("1 validation error detected: Value null at 'permissionsBoundary' failed to satisfy constraint: Member must not be null")
	}
	// The boundary must be an existing managed policy, as AWS checks.
	if _, _, err := s.world.IAM.policy(in.PermissionsBoundary); err != nil {
		return nil, err
	}
	r.PermissionsBoundary = in.PermissionsBoundary
	return nil, nil
}

type iamDeleteRolePermissionsBoundaryInput struct{ RoleName string }

func (s *Server) iamDeleteRolePermissionsBoundary(c *Call, in *iamDeleteRolePermissionsBoundaryInput) (*noOutput, error) {
	r, err := s.iamRole(in.RoleName)
	if err != nil {
		return nil, err
	}
	r.PermissionsBoundary = ""
	return nil, nil
}
