package awsemu

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/nodewright/nodewright/test/localcloud/iameval"
)

// The EKS Pod Identity agent's credentials endpoint. On EKS the agent on
// each node serves http://169.254.170.23/v1/credentials: a pod's SDK sends
// its projected service-account token (audience pods.eks.amazonaws.com) and
// gets its association's role credentials, which the agent obtains from
// EKS Auth's AssumeRoleForPodIdentity. Here the endpoint is the emulator's
// own URL + PodIdentityPath; the checks are EKS Auth's.

// PodIdentityPath is where the local cloud serves the agent's endpoint.
const PodIdentityPath = "/v1/credentials"

// PodIdentityAudience is the audience of Pod Identity tokens.
const PodIdentityAudience = "pods.eks.amazonaws.com"

func (s *Server) servePodIdentity(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	creds, code, err := s.podIdentityCredentials(r)
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		s.log.Info("pod identity: refused", "code", code, "reason", err.Error())
		status := http.StatusBadRequest
		switch code {
		case "AccessDeniedException", "ExpiredTokenException", "InvalidTokenException":
			status = http.StatusForbidden
		case "ResourceNotFoundException":
			status = http.StatusNotFound
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": err.Error()})
		return
	}
	s.dirty = true
	_ = json.NewEncoder(w).Encode(creds)
}

// containerCredentials is the body the SDKs' container credentials
// provider reads.
type containerCredentials struct {
	AccessKeyId     string
	SecretAccessKey string
	Token           string
	Expiration      string
	AccountId       string
}

type podIdentityError struct{ msg string }

func (e podIdentityError) Error() string { return e.msg }

func (s *Server) podIdentityCredentials(r *http.Request) (*containerCredentials, string, error) {
	token := strings.TrimSpace(r.Header.Get("Authorization"))
	if token == "" {
		return nil, "InvalidRequestException", podIdentityError{"no token in the Authorization header"}
	}
	claims, err := s.verifyServiceAccountToken(r.Context(), token, PodIdentityAudience)
	if err != nil {
		if strings.Contains(err.Error(), "expired") {
			return nil, "ExpiredTokenException", err
		}
		return nil, "InvalidTokenException", err
	}
	ns, sa := claims.K8s.Namespace, claims.K8s.ServiceAccount.Name
	var assoc *EKSPodIdentityAssociation
	for _, a := range s.world.EKS.PodIdentityAssociations {
		if a.Namespace == ns && a.ServiceAccount == sa {
			assoc = a
		}
	}
	if assoc == nil {
		return nil, "ResourceNotFoundException", podIdentityError{"no pod identity association for service account " + ns + "/" + sa + " in cluster " + s.world.Options.ClusterName}
	}
	// The role must trust the Pod Identity service for both actions the
	// agent performs: assuming the role and tagging the session.
	trust := s.roleTrust(assoc.RoleARN)
	for _, action := range []string{"sts:AssumeRole", "sts:TagSession"} {
		req := iameval.Request{Principal: PodIdentityAudience, Action: action, Resource: assoc.RoleARN, Context: map[string][]string{}}
		if res := s.trustAllows(trust, req); res.Decision != iameval.Allow {
			return nil, "AccessDeniedException", podIdentityError{"role " + assoc.RoleARN + "'s trust policy does not allow " + PodIdentityAudience + " to perform " + action}
		}
	}
	session := "eks-" + s.world.Options.ClusterName + "-" + claims.K8s.Pod.Name
	if len(session) > 64 {
		session = session[:64]
	}
	creds, _, aerr := s.assume(&Call{}, assoc.RoleARN, sanitizeSession(session), 0)
	if aerr != nil {
		return nil, "AccessDeniedException", aerr
	}
	s.world.STS.Sessions[creds.AccessKeyId].Tags = map[string]string{
		"eks-cluster-arn": s.clusterARN(), "eks-cluster-name": s.world.Options.ClusterName,
		"kubernetes-namespace": ns, "kubernetes-service-account": sa,
		"kubernetes-pod-name": claims.K8s.Pod.Name, "kubernetes-pod-uid": claims.K8s.Pod.UID,
	}
	s.log.Info("pod identity: issued credentials", "serviceAccount", ns+"/"+sa, "role", assoc.RoleARN)
	exp, _ := time.Parse("2006-01-02T15:04:05Z", creds.Expiration)
	return &containerCredentials{AccessKeyId: creds.AccessKeyId, SecretAccessKey: creds.SecretAccessKey, Token: creds.SessionToken,
		Expiration: exp.UTC().Format(time.RFC3339), AccountId: AccountID}, "", nil
}

// sanitizeSession keeps the characters a role session name allows.
func sanitizeSession(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+=,.@-", r) {
			return r
		}
		return '-'
	}, s)
}
