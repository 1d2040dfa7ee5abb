package awsemu

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/go-jose/go-jose/v4"
)

const testIssuer = "https://oidc.localcloud.test/cluster"

// issuer signs service-account tokens as a cluster's issuer does, and
// publishes its keys.
type issuer struct {
	key *ecdsa.PrivateKey
	kid string
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &issuer{key: k, kid: "test-key"}
}

func (i *issuer) jwks(context.Context) ([]byte, error) {
	return json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &i.key.PublicKey, KeyID: i.kid, Algorithm: "ES256", Use: "sig"}}})
}

// token signs a service-account token for ns/sa with audience aud.
func (i *issuer) token(t *testing.T, ns, sa, aud string, ttl time.Duration) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: i.key}, (&jose.SignerOptions{}).WithHeader("kid", i.kid))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := map[string]any{"iss": testIssuer, "sub": "system:serviceaccount:" + ns + ":" + sa, "aud": []string{aud},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(ttl).Unix(),
		"kubernetes.io": map[string]any{"namespace": ns, "serviceaccount": map[string]string{"name": sa, "uid": "sa-uid"},
			"pod": map[string]string{"name": sa + "-pod", "uid": "pod-uid"}}}
	payload, _ := json.Marshal(claims)
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func withIssuer(t *testing.T) (*Server, *issuer) {
	iss := newIssuer(t)
	s := NewForTest(t, Options{ClusterKeys: iss.jwks, World: WorldOptions{OIDCIssuer: testIssuer}})
	return s, iss
}

// IRSA: STS verifies the token against the issuer's keys and the IAM OIDC
// provider, and the trust policy's conditions on sub and aud decide.
func TestAssumeRoleWithWebIdentityVerifiesTheToken(t *testing.T) {
	s, iss := withIssuer(t)
	ctx := context.Background()
	admin := iam.NewFromConfig(s.Config())
	provider, err := admin.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(testIssuer),
		ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{strings.Repeat("a", 40)}})
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(testIssuer, "https://")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + aws.ToString(provider.OpenIDConnectProviderArn) + `"},
		"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + host + `:sub":"system:serviceaccount:kube-system:nodewright","` + host + `:aud":"sts.amazonaws.com"}}}]}`
	if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("irsa"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	roleARN := aws.String("arn:aws:iam::" + AccountID + ":role/irsa")
	c := sts.NewFromConfig(s.Config())
	good := iss.token(t, "kube-system", "nodewright", "sts.amazonaws.com", time.Hour)
	out, err := c.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: roleARN, RoleSessionName: aws.String("ctl"), WebIdentityToken: aws.String(good)})
	if err != nil {
		t.Fatalf("a valid token: %v", err)
	}
	if aws.ToString(out.SubjectFromWebIdentityToken) != "system:serviceaccount:kube-system:nodewright" || aws.ToString(out.Provider) != testIssuer ||
		aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::"+AccountID+":assumed-role/irsa/ctl" {
		t.Errorf("answer %+v", out)
	}
	forged := newIssuer(t).token(t, "kube-system", "nodewright", "sts.amazonaws.com", time.Hour)
	for name, tc := range map[string]struct{ token, code string }{
		"another service account": {iss.token(t, "default", "nodewright", "sts.amazonaws.com", time.Hour), "AccessDenied"},
		"another audience":        {iss.token(t, "kube-system", "nodewright", "other", time.Hour), "InvalidIdentityToken"},
		"a forged signature":      {forged, "InvalidIdentityToken"},
		"an expired token":        {iss.token(t, "kube-system", "nodewright", "sts.amazonaws.com", -time.Minute), "InvalidIdentityToken"},
		"not a JWT":               {"not-a-jwt", "InvalidIdentityToken"},
	} {
		_, err := c.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: roleARN, RoleSessionName: aws.String("ctl"), WebIdentityToken: aws.String(tc.token)})
		if apiCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
}

// Pod Identity: the agent's endpoint, through the SDK's own container
// credentials provider, hands the association's role to a pod whose token
// it verifies, and only when the role trusts pods.eks.amazonaws.com for
// both sts:AssumeRole and sts:TagSession.
func TestPodIdentityAgentIssuesTheAssociationsRole(t *testing.T) {
	s, iss := withIssuer(t)
	ctx := context.Background()
	admin := iam.NewFromConfig(s.Config())
	for name, actions := range map[string]string{"pod-role": `["sts:AssumeRole","sts:TagSession"]`, "no-tag": `"sts:AssumeRole"`} {
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":` + actions + `}]}`
		if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
	}
	e := eks.NewFromConfig(s.Config())
	for sa, role := range map[string]string{"nodewright": "pod-role", "untagged": "no-tag"} {
		if _, err := e.CreatePodIdentityAssociation(ctx, &eks.CreatePodIdentityAssociationInput{ClusterName: aws.String("localcloud"),
			Namespace: aws.String("kube-system"), ServiceAccount: aws.String(sa), RoleArn: aws.String("arn:aws:iam::" + AccountID + ":role/" + role)}); err != nil {
			t.Fatal(err)
		}
	}
	creds := func(token string) (aws.Credentials, error) {
		p := endpointcreds.New(s.URL+PodIdentityPath, func(o *endpointcreds.Options) { o.AuthorizationToken = token })
		return p.Retrieve(ctx)
	}
	got, err := creds(iss.token(t, "kube-system", "nodewright", PodIdentityAudience, time.Hour))
	if err != nil {
		t.Fatalf("the association's pod: %v", err)
	}
	cfg := withKeys(s, got.AccessKeyID, got.SecretAccessKey, got.SessionToken)
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || !strings.HasPrefix(aws.ToString(id.Arn), "arn:aws:sts::"+AccountID+":assumed-role/pod-role/eks-localcloud-") {
		t.Fatalf("caller %v, %v", aws.ToString(id.Arn), err)
	}
	for name, token := range map[string]string{
		"a service account without an association": iss.token(t, "kube-system", "other", PodIdentityAudience, time.Hour),
		"a role that does not allow TagSession":    iss.token(t, "kube-system", "untagged", PodIdentityAudience, time.Hour),
		"the STS audience":                         iss.token(t, "kube-system", "nodewright", "sts.amazonaws.com", time.Hour),
		"a forged token":                           newIssuer(t).token(t, "kube-system", "nodewright", PodIdentityAudience, time.Hour),
	} {
		if _, err := creds(token); err == nil {
			t.Errorf("%s: credentials issued", name)
		}
	}
	resp, err := http.Get(s.URL + PodIdentityPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no token: status %d", resp.StatusCode)
	}
}
