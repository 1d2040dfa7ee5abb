package awsemu

import (
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"github.com/nodewright/nodewright/test/localcloud/iameval"
)

func (s *Server) registerSTS() {
	// GetCallerIdentity also arrives as a presigned GET (the EKS bearer-token
	// scheme: the URL, with an x-k8s-aws-id header signed in, is the token).
	// The dispatcher reads the service from X-Amz-Credential and the action
	// from the query string, and the signature covers the header.
	s.register("sts", "GetCallerIdentity", protoQuery, false, handle(s.stsGetCallerIdentity))
	s.register("sts", "AssumeRole", protoQuery, true, handle(s.stsAssumeRole))
	s.register("sts", "AssumeRoleWithWebIdentity", protoQuery, true, handle(s.stsAssumeRoleWithWebIdentity))
	s.register("sts", "DecodeAuthorizationMessage", protoQuery, false, s.stsDecodeAuthorizationMessage)
}

// stsDecodeAuthorizationMessage turns EC2's encoded failure message back
// into the request's context and the statements that decided it.
func (s *Server) stsDecodeAuthorizationMessage(c *Call) (any, error) {
	msg := c.Form.Get("EncodedMessage")
	if msg == "" {
		return nil, errIAMValidation("1 validation error detected: Value null at 'encodedMessage' failed to satisfy constraint: Member must not be null")
	}
	decoded, ok := s.world.STS.Denials[msg]
	if !ok {
		return nil, Errorf(400, "InvalidAuthorizationMessageException", "The encoded message could not be decoded: it is not one this account issued, or it has been discarded.")
	}
	return struct{ DecodedMessage string }{decoded}, nil
}

type stsGetCallerIdentityOutput struct {
	UserId  string
	Account string
	Arn     string
}

// stsGetCallerIdentity needs no permission: on AWS no policy can deny it.
func (s *Server) stsGetCallerIdentity(c *Call, _ *noInput) (*stsGetCallerIdentityOutput, error) {
	if c.Caller == nil {
		return nil, authError("sts", protoQuery, authMissing, "Request is missing Authentication Token")
	}
	return &stsGetCallerIdentityOutput{c.Caller.UserID, AccountID, c.Caller.ARN}, nil
}

// callerARN names the caller in error messages.
func (c *Call) callerARN() string {
	if c.Caller == nil {
		return "anonymous"
	}
	return c.Caller.ARN
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
func (s *Server) assume(c *Call, roleARN, session string, duration int) (stsCredentials, assumedRoleUser, *Error) {
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
		return stsCredentials{}, assumedRoleUser{}, Errorf(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.callerARN(), roleARN)
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
	s.world.STS.Sessions[creds.AccessKeyId] = &STSSession{
		AccessKeyID: creds.AccessKeyId, Secret: creds.SecretAccessKey, Token: creds.SessionToken,
		RoleARN: role.ARN, SessionName: session, SessionARN: user.Arn, AssumedRole: user.AssumedRoleId,
		Expiration: s.clock.Now().Add(time.Duration(duration) * time.Second).UTC(),
	}
	s.log.Info("sts: issued session", "role", role.ARN, "session", session, "accessKeyId", creds.AccessKeyId)
	return creds, user, nil
}

type stsAssumeRoleInput struct {
	RoleArn         string
	RoleSessionName string
	DurationSeconds int
}

type stsAssumeRoleOutput struct {
	Credentials      stsCredentials
	AssumedRoleUser  assumedRoleUser
	PackedPolicySize int
}

func (s *Server) stsAssumeRole(c *Call, in *stsAssumeRoleInput) (*stsAssumeRoleOutput, error) {
	creds, user, err := s.assume(c, in.RoleArn, in.RoleSessionName, in.DurationSeconds)
	if err != nil {
		return nil, err
	}
	return &stsAssumeRoleOutput{creds, user, 0}, nil
}

type stsAssumeRoleWithWebIdentityInput struct {
	RoleArn          string
	RoleSessionName  string
	WebIdentityToken string
	DurationSeconds  int
	ProviderId       string
}

type stsAssumeRoleWithWebIdentityOutput struct {
	Credentials                 stsCredentials
	SubjectFromWebIdentityToken string
	AssumedRoleUser             assumedRoleUser
	PackedPolicySize            int
	Provider                    string
	Audience                    string
}

// stsAssumeRoleWithWebIdentity is IRSA's exchange, checked as STS does:
// the token's issuer must be an IAM OIDC provider of the account whose
// client ids include the token's audience, the signature must verify
// against the issuer's keys, and the role's trust policy must allow the
// provider with conditions on <issuer>:sub and <issuer>:aud.
func (s *Server) stsAssumeRoleWithWebIdentity(c *Call, in *stsAssumeRoleWithWebIdentityInput) (*stsAssumeRoleWithWebIdentityOutput, error) {
	if in.WebIdentityToken == "" {
		return nil, errIAMValidation("1 validation error detected: Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null")
	}
	invalid := func(why string) error {
		s.log.Info("sts: web identity token refused", "reason", why)
		return Errorf(400, "InvalidIdentityToken", "The web identity token that was passed could not be validated by AWS: %s. Get a new identity token from the identity provider and then retry the request.", why)
	}
	claims, err := s.verifyServiceAccountToken(c.HTTP.Context(), in.WebIdentityToken, "")
	if err != nil {
		return nil, invalid(err.Error())
	}
	host := issuerHost(claims.Issuer)
	provider := s.world.IAM.OIDCProviders["arn:aws:iam::"+AccountID+":oidc-provider/"+host]
	if provider == nil {
		return nil, invalid("no OpenIDConnect provider found in your account for " + claims.Issuer)
	}
	aud := claims.audiences()
	if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(provider.ClientIDs, a) }) {
		return nil, invalid(fmt.Sprintf("incorrect token audience %v for provider %s", aud, provider.ARN))
	}
	trust := s.roleTrust(in.RoleArn)
	req := iameval.Request{Principal: provider.ARN, PrincipalAccount: AccountID, Action: "sts:AssumeRoleWithWebIdentity", Resource: in.RoleArn,
		Context: map[string][]string{host + ":sub": {claims.Subject}, host + ":aud": aud, "aws:FederatedProvider": {provider.ARN}}}
	if r := s.trustAllows(trust, req); r.Decision != iameval.Allow {
		return nil, Errorf(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	}
	creds, user, aerr := s.assume(c, in.RoleArn, in.RoleSessionName, in.DurationSeconds)
	if aerr != nil {
		return nil, aerr
	}
	// For OpenID Connect tokens STS reports the iss claim as the provider.
	prov := claims.Issuer
	if in.ProviderId != "" {
		prov = in.ProviderId
	}
	return &stsAssumeRoleWithWebIdentityOutput{creds, claims.Subject, user, 0, prov, aud[0]}, nil
}

// trustAllows evaluates a role's trust policy alone, for principals that
// hold no identity policies (federated providers, AWS services).
func (s *Server) trustAllows(trust authzResource, req iameval.Request) iameval.Result {
	var set iameval.PolicySet
	if p, err := s.parsedPolicy(trust.policy, iameval.TrustPolicy); err == nil {
		set.Resource = &iameval.NamedPolicy{Name: "trust policy", Policy: p}
	}
	set.TrustEvaluation = true
	for k, v := range trust.keys {
		req.Context[k] = v
	}
	return iameval.Evaluate(req, set)
}
