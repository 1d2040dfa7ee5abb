package awsemu

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// The identity every caller of the emulator is: one IAM user.
const (
	callerUserName = "localcloud"
	callerUserID   = "AIDALOCALCLOUDUSER001"
)

// CallerARN is the ARN GetCallerIdentity reports.
var CallerARN = "arn:aws:iam::" + AccountID + ":user/" + callerUserName

func (s *Server) registerSTS() {
	// GetCallerIdentity also arrives as a presigned GET (the EKS bearer-token
	// scheme: the URL, with an x-k8s-aws-id header signed in, is the token).
	// The dispatcher reads the service from X-Amz-Credential and the action
	// from the query string; signatures are not checked, so the header needs
	// no special handling.
	s.register("sts", "GetCallerIdentity", protoQuery, false, s.stsGetCallerIdentity)
	s.register("sts", "AssumeRole", protoQuery, false, s.stsAssumeRole)
	s.register("sts", "AssumeRoleWithWebIdentity", protoQuery, false, s.stsAssumeRoleWithWebIdentity)
}

func (s *Server) stsGetCallerIdentity(c *Call) (any, error) {
	return struct {
		UserId  string
		Account string
		Arn     string
	}{callerUserID, AccountID, CallerARN}, nil
}

type stsCredentials struct {
	AccessKeyId     string
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

type assumedRoleUser struct {
	AssumedRoleId string
	Arn           string
}

// stsRandom returns n characters from an alphabet.
func stsRandom(alphabet string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// assume checks what both AssumeRole flavours check and mints credentials.
func (s *Server) assume(roleARN, session string, duration int) (stsCredentials, assumedRoleUser, *Error) {
	if roleARN == "" {
		return stsCredentials{}, assumedRoleUser{}, errIAMValidation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	}
	if session == "" {
		return stsCredentials{}, assumedRoleUser{}, errIAMValidation("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	}
	if len(session) < 2 || len(session) > 64 || !iamNameRE.MatchString(session) {
		return stsCredentials{}, assumedRoleUser{}, errIAMValidation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length 2-64 and satisfy regular expression pattern: [\\w+=,.@-]*", session)
	}
	role := s.world.IAM.RoleByARN(roleARN)
	if role == nil {
		return stsCredentials{}, assumedRoleUser{}, Errorf(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", CallerARN, roleARN)
	}
	if duration == 0 {
		duration = 3600
	}
	if duration < 900 || duration > role.MaxSessionDuration {
		return stsCredentials{}, assumedRoleUser{}, errIAMValidation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	const mixed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	creds := stsCredentials{
		AccessKeyId:     "ASIA" + stsRandom(upper, 16),
		SecretAccessKey: stsRandom(mixed, 40),
		SessionToken:    "IQoJb3JpZ2luX2VjE" + stsRandom(mixed, 300),
		Expiration:      iamTime(s.clock.Now().Add(time.Duration(duration) * time.Second)),
	}
	user := assumedRoleUser{
		AssumedRoleId: role.ID + ":" + session,
		Arn:           "arn:aws:sts::" + AccountID + ":assumed-role/" + role.Name + "/" + session,
	}
	return creds, user, nil
}

func (s *Server) stsAssumeRole(c *Call) (any, error) {
	var in struct {
		RoleArn         string
		RoleSessionName string
		DurationSeconds int
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	creds, user, err := s.assume(in.RoleArn, in.RoleSessionName, in.DurationSeconds)
	if err != nil {
		return nil, err
	}
	return struct {
		Credentials      stsCredentials
		AssumedRoleUser  assumedRoleUser
		PackedPolicySize int
	}{creds, user, 0}, nil
}

// jwtClaims reads a JWT's payload without verifying it: the emulator trusts
// any token, but reports its subject, audience and issuer as STS does.
func jwtClaims(token string) (sub, aud, iss string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", "", "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", "", "", false
	}
	var claims struct {
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Iss string          `json:"iss"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return "", "", "", false
	}
	// aud is a string or a list of strings.
	var one string
	var many []string
	if json.Unmarshal(claims.Aud, &one) != nil && json.Unmarshal(claims.Aud, &many) == nil && len(many) > 0 {
		one = many[0]
	}
	return claims.Sub, one, claims.Iss, true
}

func (s *Server) stsAssumeRoleWithWebIdentity(c *Call) (any, error) {
	var in struct {
		RoleArn          string
		RoleSessionName  string
		WebIdentityToken string
		DurationSeconds  int
		ProviderId       string
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if in.WebIdentityToken == "" {
		return nil, errIAMValidation("1 validation error detected: Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null")
	}
	sub, aud, iss, ok := jwtClaims(in.WebIdentityToken)
	if !ok {
		return nil, Errorf(400, "InvalidIdentityToken", "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.")
	}
	creds, user, err := s.assume(in.RoleArn, in.RoleSessionName, in.DurationSeconds)
	if err != nil {
		return nil, err
	}
	// For OpenID Connect tokens STS reports the iss claim as the provider.
	provider := iss
	if in.ProviderId != "" {
		provider = in.ProviderId
	}
	return struct {
		Credentials                 stsCredentials
		SubjectFromWebIdentityToken string
		AssumedRoleUser             assumedRoleUser
		PackedPolicySize            int
		Provider                    string
		Audience                    string
	}{creds, sub, user, 0, provider, aud}, nil
}
