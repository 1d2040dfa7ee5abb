package awscli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

// STS speaks the AWS query protocol. AssumeRoleWithWebIdentity goes
// unsigned: botocore sends it without credentials, the token being one.

func TestSTS(t *testing.T) { runScenarios(t, stsScenarios) }

const issuerURL = "https://oidc.awscli.test/cluster"

var stsScenarios = []scenario{
	{name: "caller identity", steps: []step{
		{service: "sts", op: "GetCallerIdentity",
			want: []check{eq("Account", "{account}"), eq("Arn", "arn:aws:iam::{account}:user/localcloud"), matches("UserId", `^AIDA`)}},
	}},
	{name: "assumed role", setup: withForgedSession, steps: []step{
		{service: "iam", op: "CreateRole", args: []string{"--role-name", "awscli-assumable", "--assume-role-policy-document", adminTrust},
			want: []check{eq("Role.RoleName", "awscli-assumable")}},
		{service: "sts", op: "AssumeRole", args: []string{"--role-arn", "arn:aws:iam::{account}:role/awscli-assumable", "--role-session-name", "cli", "--duration-seconds", "900"},
			want: []check{matches("Credentials.AccessKeyId", `^ASIA[A-Z2-7]{16}$`), matches("Credentials.Expiration", `^20\d\d-\d\d-\d\dT`),
				eq("AssumedRoleUser.Arn", "arn:aws:sts::{account}:assumed-role/awscli-assumable/cli"), matches("AssumedRoleUser.AssumedRoleId", `^AROA[A-Z0-9]+:cli$`)},
			save: map[string]string{"role.id": "Credentials.AccessKeyId", "role.secret": "Credentials.SecretAccessKey", "role.token": "Credentials.SessionToken"}},
		{name: "GetCallerIdentity as the role", as: "role", service: "sts", op: "GetCallerIdentity",
			want: []check{eq("Arn", "arn:aws:sts::{account}:assumed-role/awscli-assumable/cli")}},
		// The role has no policy: EC2 refuses with an encoded message.
		{name: "DescribeAvailabilityZones as the role, which may not", as: "role", service: "ec2", op: "DescribeAvailabilityZones",
			err: "UnauthorizedOperation", saveErr: map[string]*regexp.Regexp{"encoded": regexp.MustCompile(`Encoded authorization failure message: (\S+)`)}},
		{service: "sts", op: "DecodeAuthorizationMessage", args: []string{"--encoded-message", "{encoded}"},
			want: []check{inJSON("DecodedMessage", eq("allowed", "false"), eq("context.action", "ec2:DescribeAvailabilityZones"),
				eq("context.principal.arn", "arn:aws:sts::{account}:assumed-role/awscli-assumable/cli"))}},
		{name: "DecodeAuthorizationMessage of a message never issued", service: "sts", op: "DecodeAuthorizationMessage",
			args: []string{"--encoded-message", "not-issued"}, err: "InvalidAuthorizationMessageException"},
		{name: "GetCallerIdentity with a wrong session token", as: "forged", service: "sts", op: "GetCallerIdentity", err: "InvalidClientTokenId"},
		{service: "iam", op: "DeleteRole", args: []string{"--role-name", "awscli-assumable"}},
		{name: "GetCallerIdentity as the deleted role", as: "role", service: "sts", op: "GetCallerIdentity", err: "InvalidClientTokenId"},
	}},
	{name: "web identity", setup: withIssuer, steps: []step{
		{service: "iam", op: "CreateOpenIDConnectProvider", args: []string{"--url", issuerURL, "--client-id-list", "sts.amazonaws.com",
			"--thumbprint-list", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
			want: []check{eq("OpenIDConnectProviderArn", "arn:aws:iam::{account}:oidc-provider/oidc.awscli.test/cluster")}},
		{service: "iam", op: "CreateRole", args: []string{"--role-name", "irsa", "--assume-role-policy-document",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.awscli.test/cluster"},` +
				`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.awscli.test/cluster:sub":"system:serviceaccount:kube-system:nodewright"}}}]}`},
			want: []check{eq("Role.RoleName", "irsa")}},
		{service: "sts", op: "AssumeRoleWithWebIdentity", args: []string{"--role-arn", "arn:aws:iam::{account}:role/irsa", "--role-session-name", "ctl",
			"--web-identity-token", "{token}"},
			want: []check{eq("SubjectFromWebIdentityToken", "system:serviceaccount:kube-system:nodewright"), eq("Provider", issuerURL),
				eq("Audience", "sts.amazonaws.com"), eq("AssumedRoleUser.Arn", "arn:aws:sts::{account}:assumed-role/irsa/ctl"),
				matches("Credentials.AccessKeyId", `^ASIA`)}},
		{name: "AssumeRoleWithWebIdentity for another service account", service: "sts", op: "AssumeRoleWithWebIdentity",
			args: []string{"--role-arn", "arn:aws:iam::{account}:role/irsa", "--role-session-name", "ctl", "--web-identity-token", "{otherToken}"},
			err:  "AccessDenied"},
		{name: "AssumeRoleWithWebIdentity with a forged token", service: "sts", op: "AssumeRoleWithWebIdentity",
			args: []string{"--role-arn", "arn:aws:iam::{account}:role/irsa", "--role-session-name", "ctl", "--web-identity-token", "{forgedToken}"},
			err:  "InvalidIdentityToken"},
	}},
}

// withForgedSession saves {forged.*} credentials: the assumed role's key
// and secret with a session token STS never issued.
func withForgedSession(_ *testing.T, vars map[string]string) awsemu.Options {
	vars["forged.id"], vars["forged.secret"], vars["forged.token"] = "{role.id}", "{role.secret}", "IQoJb3JpZ2luX2VjEforged"
	return awsemu.Options{}
}

// withIssuer gives the emulator a service-account issuer, as the cluster's
// apiserver is, and saves tokens it signed: {token} for
// kube-system/nodewright, {otherToken} for default/nodewright, and
// {forgedToken}, signed by another key.
func withIssuer(t *testing.T, vars map[string]string) awsemu.Options {
	key, forger := newKey(t), newKey(t)
	vars["token"] = signToken(t, key, "kube-system", "nodewright")
	vars["otherToken"] = signToken(t, key, "default", "nodewright")
	vars["forgedToken"] = signToken(t, forger, "kube-system", "nodewright")
	return awsemu.Options{
		World: awsemu.WorldOptions{OIDCIssuer: issuerURL},
		ClusterKeys: func(context.Context) ([]byte, error) {
			pub, err := key.PublicKey.Bytes() // 0x04 || X || Y
			if err != nil {
				return nil, err
			}
			return json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "EC", "crv": "P-256", "kid": "awscli", "alg": "ES256", "use": "sig",
				"x": b64(pub[1:33]), "y": b64(pub[33:])}}})
		},
	}
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signToken signs an hour's service-account token for ns/sa, audience
// sts.amazonaws.com, as a compact ES256 JWS.
func signToken(t *testing.T, key *ecdsa.PrivateKey, ns, sa string) string {
	now := time.Now()
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "kid": "awscli", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{"iss": issuerURL, "sub": "system:serviceaccount:" + ns + ":" + sa, "aud": []string{"sts.amazonaws.com"},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"kubernetes.io": map[string]any{"namespace": ns, "serviceaccount": map[string]string{"name": sa, "uid": "sa-uid"}}})
	signed := b64(header) + "." + b64(claims)
	digest := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
