package podruntime

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// AWSIdentity is what EKS gives a pod's containers so that the AWS SDK
// finds its role: a service-account token for an audience, projected into
// a file, and the variables that name it. On EKS the Pod Identity webhook
// (or, for IRSA, the pod identity webhook) injects these into the pod spec;
// on the local cloud the runtime injects them at start, so the Deployment
// is the one EKS runs.
type AWSIdentity struct {
	// Audience of the projected token: pods.eks.amazonaws.com for Pod
	// Identity, sts.amazonaws.com for IRSA.
	Audience string
	// TokenFile is the token's file name in the pod's directory.
	TokenFile string
	// Env is set in every container; TokenFileVar in a value is replaced
	// by the token's path.
	Env map[string]string
}

// TokenFileVar stands for the projected token's path in AWSIdentity.Env.
const TokenFileVar = "$(AWS_TOKEN_FILE)"

// refreshAWSToken requests the pod's AWS token, bound to the pod as a
// projected token is, and writes it.
func (w *podWorker) refreshAWSToken(ctx context.Context, pod *corev1.Pod) error {
	if w.r.cfg.AWSIdentity == nil {
		return nil
	}
	if !w.identityKnown {
		id, err := w.r.cfg.AWSIdentity(ctx, pod)
		if err != nil {
			return fmt.Errorf("looking up the pod's AWS identity: %w", err)
		}
		w.identity, w.identityKnown = id, true
	}
	if w.identity == nil {
		return nil
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences:         []string{w.identity.Audience},
		ExpirationSeconds: ptr.To[int64](tokenLifetime),
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	resp, err := w.r.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, serviceAccount(pod), req, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("requesting a %s token for service account %s/%s: %w", w.identity.Audience, pod.Namespace, serviceAccount(pod), err)
	}
	return writeFileAtomic(w.awsTokenPath(), []byte(resp.Status.Token), 0o600)
}

func (w *podWorker) awsTokenPath() string { return filepath.Join(w.dir, w.identity.TokenFile) }

// setAWSIdentity adds the identity's variables to a container's
// environment.
func (w *podWorker) setAWSIdentity(env *envList) {
	if w.identity == nil {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(w.identity.Env)) {
		env.set(k, strings.ReplaceAll(w.identity.Env[k], TokenFileVar, w.awsTokenPath()))
	}
}

func serviceAccount(pod *corev1.Pod) string {
	if pod.Spec.ServiceAccountName == "" {
		return "default"
	}
	return pod.Spec.ServiceAccountName
}
