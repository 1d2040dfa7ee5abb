package awsemu

import (
	"time"

	"github.com/nodewright/nodewright/test/localcloud/awsemu/sigv4"
)

// Authentication: every request is signed with SigV4 by a known key, as on
// AWS. The keys are the administrator's (below), IAM users' access keys,
// and the temporary credentials STS and the Pod Identity agent issue.

// The administrator identity Terraform and the tests sign with. It holds
// AdministratorAccess, as an account's first admin user does.
const (
	AdminAccessKeyID     = "AKIDLOCALCLOUD"
	AdminSecretAccessKey = "localcloud-secret"
	adminUserName        = "localcloud"
	adminUserID          = "AIDALOCALCLOUDUSER001"
)

// AdminARN is the administrator's ARN.
var AdminARN = "arn:aws:iam::" + AccountID + ":user/" + adminUserName

// Caller is the identity a request authenticated as.
type Caller struct {
	ARN    string
	UserID string
	// Admin is the built-in administrator: policies are not consulted.
	Admin bool
	// User is set for an IAM user's access key; Role and Session for
	// temporary credentials.
	User    *IAMUser
	Role    *IAMRole
	Session *STSSession
}

// STSState holds the temporary credentials issued, by access key id.
type STSState struct {
	Sessions map[string]*STSSession `json:"sessions"`
	// Denials holds the decoded form of EC2's encoded authorization
	// messages, by the token the error carried.
	Denials map[string]string `json:"denials"`
}

// STSSession is one set of temporary credentials for a role.
type STSSession struct {
	AccessKeyID   string    `json:"accessKeyId"`
	Secret        string    `json:"secret"`
	Token         string    `json:"token"`
	RoleARN       string    `json:"roleArn"`
	SessionName   string    `json:"sessionName"`
	Expiration    time.Time `json:"expiration"`
	SessionARN    string    `json:"sessionArn"`
	AssumedRole   string    `json:"assumedRoleId"`
	SessionPolicy string    `json:"sessionPolicy,omitempty"`
	// Tags are session tags (Pod Identity's kubernetes-namespace and the
	// like); policies see them as aws:PrincipalTag.
	Tags map[string]string `json:"tags,omitempty"`
}

// authProblem is why a request did not authenticate.
type authProblem int

const (
	authMissing authProblem = iota
	authIncomplete
	authUnknownKey
	authBadSignature
	authRequestExpired
	authTokenExpired
)

// authError answers an authentication failure with the code and status the
// service uses: EC2 has its own, Query services (IAM, STS, SQS) theirs, and
// the JSON and REST-JSON services theirs.
func authError(service string, proto protocol, p authProblem, detail string) *Error {
	const (
		invalidToken = "The security token included in the request is invalid."
		expiredToken = "The security token included in the request is expired"
	)
	switch {
	case proto == protoEC2Query:
		switch p {
		case authMissing:
			return Errorf(401, "MissingAuthenticationToken", "%s", detail)
		case authIncomplete:
			return Errorf(400, "IncompleteSignature", "%s", detail)
		case authRequestExpired, authTokenExpired:
			return Errorf(400, "RequestExpired", "Request has expired.")
		}
		return Errorf(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
	case proto == protoQuery || service == "sqs":
		switch p {
		case authMissing:
			return Errorf(403, "MissingAuthenticationToken", "%s", detail)
		case authIncomplete:
			return Errorf(400, "IncompleteSignature", "%s", detail)
		case authUnknownKey:
			return Errorf(403, "InvalidClientTokenId", invalidToken)
		case authTokenExpired:
			return Errorf(403, "ExpiredToken", expiredToken)
		}
		return Errorf(403, "SignatureDoesNotMatch", "%s", detail)
	}
	status := 400
	if proto == protoRESTJSON {
		status = 403
	}
	switch p {
	case authMissing:
		return Errorf(status, "MissingAuthenticationTokenException", "Missing Authentication Token")
	case authIncomplete:
		return Errorf(400, "IncompleteSignatureException", "%s", detail)
	case authUnknownKey:
		return Errorf(status, "UnrecognizedClientException", invalidToken)
	case authTokenExpired:
		return Errorf(status, "ExpiredTokenException", expiredToken)
	}
	return Errorf(status, "InvalidSignatureException", "%s", detail)
}

// anonymousActions are the actions AWS serves unsigned: the web identity
// token is the credential.
var anonymousActions = map[string]bool{"sts:AssumeRoleWithWebIdentity": true}

// authenticate finds who signed r. A nil Caller with no error is an
// anonymous call to an action that allows it.
func (s *Server) authenticate(c *Call, proto protocol) (*Caller, *Error) {
	if s.opts.NoAuth {
		return s.adminCaller(), nil
	}
	signed, err := sigv4.Parse(c.HTTP, c.Body)
	if err != nil {
		if sigv4.IsProblem(err, sigv4.Missing) && anonymousActions[c.Service+":"+c.Action] {
			return nil, nil
		}
		p := authIncomplete
		if sigv4.IsProblem(err, sigv4.Missing) {
			p = authMissing
		}
		return nil, authError(c.Service, proto, p, err.Error())
	}
	caller, secret, p := s.lookupKey(signed)
	if caller == nil {
		return nil, authError(c.Service, proto, p, "")
	}
	// Clients sign with the wall clock, whatever clock drives the world.
	if err := signed.Verify(secret, time.Now()); err != nil {
		p := authBadSignature
		if sigv4.IsProblem(err, sigv4.Expired) {
			p = authRequestExpired
		}
		return nil, authError(c.Service, proto, p, err.Error())
	}
	return caller, nil
}

// lookupKey finds the identity and secret of a request's access key, and
// checks a temporary key's session token and expiry.
func (s *Server) lookupKey(signed *sigv4.Signed) (*Caller, string, authProblem) {
	id := signed.AccessKeyID
	if id == AdminAccessKeyID {
		return s.adminCaller(), AdminSecretAccessKey, 0
	}
	if sess := s.world.STS.Sessions[id]; sess != nil {
		if signed.SecurityToken != sess.Token {
			return nil, "", authUnknownKey
		}
		if !s.clock.Now().Before(sess.Expiration) {
			return nil, "", authTokenExpired
		}
		role := s.world.IAM.RoleByARN(sess.RoleARN)
		if role == nil {
			// The role is gone: its sessions no longer authenticate.
			return nil, "", authUnknownKey
		}
		return &Caller{ARN: sess.SessionARN, UserID: sess.AssumedRole, Role: role, Session: sess}, sess.Secret, 0
	}
	for _, u := range s.world.IAM.Users {
		for _, k := range u.AccessKeys {
			if k.ID == id && k.Status == "Active" && signed.SecurityToken == "" {
				return &Caller{ARN: u.ARN, UserID: u.ID, User: u}, k.Secret, 0
			}
		}
	}
	return nil, "", authUnknownKey
}

func (s *Server) adminCaller() *Caller {
	return &Caller{ARN: AdminARN, UserID: adminUserID, Admin: true}
}

// expireSessionsLocked forgets sessions an hour past their expiry, so the
// state file does not grow with every assumed role.
func (s *Server) expireSessionsLocked(now time.Time) {
	for id, sess := range s.world.STS.Sessions {
		if now.Sub(sess.Expiration) > time.Hour {
			delete(s.world.STS.Sessions, id)
		}
	}
}
