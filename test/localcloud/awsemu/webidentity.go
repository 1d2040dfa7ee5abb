package awsemu

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Service-account tokens as AWS checks them: STS AssumeRoleWithWebIdentity
// (IRSA) and EKS Auth AssumeRoleForPodIdentity both take a token the
// cluster's service-account issuer signed, and verify it against the
// issuer's published keys (its JWKS) before trusting any claim.

// saClaims are the claims of a Kubernetes service-account token.
type saClaims struct {
	Issuer    string          `json:"iss"`
	Subject   string          `json:"sub"`
	Audience  json.RawMessage `json:"aud"`
	Expiry    int64           `json:"exp"`
	NotBefore int64           `json:"nbf"`
	K8s       struct {
		Namespace      string `json:"namespace"`
		ServiceAccount struct {
			Name string `json:"name"`
			UID  string `json:"uid"`
		} `json:"serviceaccount"`
		Pod struct {
			Name string `json:"name"`
			UID  string `json:"uid"`
		} `json:"pod"`
	} `json:"kubernetes.io"`
}

// audiences reads aud, a string or a list.
func (c saClaims) audiences() []string {
	var one string
	if json.Unmarshal(c.Audience, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(c.Audience, &many)
	return many
}

// verifyServiceAccountToken checks a token's signature against the
// cluster's keys, its issuer, its lifetime (on the wall clock, as the
// cluster signs on it) and, when audience is set, that it was issued for
// it. The error says which check failed.
func (s *Server) verifyServiceAccountToken(ctx context.Context, token, audience string) (saClaims, error) {
	var claims saClaims
	sig, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.ES384, jose.RS512, jose.PS256})
	if err != nil {
		return claims, fmt.Errorf("not a signed JWT: %w", err)
	}
	keys, err := s.serviceAccountKeys(ctx)
	if err != nil {
		return claims, err
	}
	var payload []byte
	for _, k := range keys.Keys {
		if len(sig.Signatures) > 0 && sig.Signatures[0].Header.KeyID != "" && k.KeyID != sig.Signatures[0].Header.KeyID {
			continue
		}
		if payload, err = sig.Verify(k.Key); err == nil {
			break
		}
	}
	if payload == nil {
		return claims, fmt.Errorf("the signature matches none of the issuer's %d keys", len(keys.Keys))
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return claims, fmt.Errorf("claims: %w", err)
	}
	if iss := s.world.Options.OIDCIssuer; iss != "" && claims.Issuer != iss {
		return claims, fmt.Errorf("issuer %q is not the cluster's (%s)", claims.Issuer, iss)
	}
	now := time.Now().Unix()
	if claims.Expiry != 0 && now >= claims.Expiry {
		return claims, fmt.Errorf("the token expired at %s", time.Unix(claims.Expiry, 0).UTC().Format(time.RFC3339))
	}
	if claims.NotBefore != 0 && now < claims.NotBefore {
		return claims, fmt.Errorf("the token is not valid before %s", time.Unix(claims.NotBefore, 0).UTC().Format(time.RFC3339))
	}
	if audience != "" && !slices.Contains(claims.audiences(), audience) {
		return claims, fmt.Errorf("the token's audience %v does not include %s", claims.audiences(), audience)
	}
	return claims, nil
}

// serviceAccountKeys fetches the issuer's JWKS through Options.ClusterKeys;
// keys are cached for a minute, as a key rotation is rare and slow.
func (s *Server) serviceAccountKeys(ctx context.Context) (*jose.JSONWebKeySet, error) {
	if s.opts.ClusterKeys == nil {
		return nil, fmt.Errorf("the local cloud was started without the cluster's service-account keys")
	}
	if s.jwks != nil && time.Since(s.jwksAt) < time.Minute {
		return s.jwks, nil
	}
	raw, err := s.opts.ClusterKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetching the cluster's service-account keys: %w", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("parsing the cluster's JWKS: %w", err)
	}
	s.jwks, s.jwksAt = &set, time.Now()
	return &set, nil
}

// issuerHost is an issuer URL as IAM names OIDC providers and condition
// keys: without the scheme.
func issuerHost(iss string) string {
	return strings.TrimPrefix(strings.TrimPrefix(iss, "https://"), "http://")
}
