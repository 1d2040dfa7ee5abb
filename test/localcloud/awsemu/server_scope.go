package awsemu

// Which service and region a request is for, read from its signature or
// its Host, and the service an action name belongs to.

import (
	"net/http"
)

// scope reads service and region from the SigV4 Authorization header, a
// presigned URL's X-Amz-Credential, or the Host name.
func (s *Server) scope(r *http.Request) (service, region string) {
	auth := r.Header.Get("Authorization")
	if cred := r.URL.Query().Get("X-Amz-Credential"); auth == "" && cred != "" {
		auth = "Credential=" + cred
	}
	if m := credentialScope.FindStringSubmatch(auth); m != nil {
		return m[2], m[1]
	}
	if m := hostService.FindStringSubmatch(r.Host); m != nil {
		region = m[2]
		if region == "" {
			region = s.opts.Region
		}
		return m[1], region
	}
	return "", s.opts.Region
}

// serviceForAction routes unsigned query requests by their Action alone.
func serviceForAction(action string) string {
	switch action {
	case "GetCallerIdentity", "AssumeRoleWithWebIdentity", "AssumeRole":
		return "sts"
	}
	return "ec2"
}
