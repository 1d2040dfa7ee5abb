package podruntime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

const tokenLifetime = 3600

// refreshToken obtains a pod-bound service-account token and writes it,
// with the CA and a kubeconfig reading both, into the pod's directory. The
// kubeconfig names the token by file, so clients pick up a refresh without
// restarting.
func (w *podWorker) refreshToken(ctx context.Context, pod *corev1.Pod) error {
	sa := serviceAccount(pod)
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: ptr.To[int64](tokenLifetime),
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	issued := time.Now()
	resp, err := w.r.client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(tctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("requesting token for service account %s/%s: %w", pod.Namespace, sa, err)
	}
	if err := writeFileAtomic(w.tokenPath(), []byte(resp.Status.Token), 0o600); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(w.dir, "ca.crt"), w.r.caData, 0o644); err != nil {
		return err
	}
	if err := w.writeKubeconfig(); err != nil {
		return err
	}
	if err := w.refreshAWSToken(tctx, pod); err != nil {
		return err
	}
	// Refresh at 80% of the lifetime, as kubelet does for projected tokens.
	lifetime := resp.Status.ExpirationTimestamp.Sub(issued)
	if lifetime <= 0 {
		lifetime = tokenLifetime * time.Second
	}
	w.tokenRefresh = issued.Add(lifetime * 8 / 10)
	return nil
}

func (w *podWorker) tokenPath() string      { return filepath.Join(w.dir, "token") }
func (w *podWorker) kubeconfigPath() string { return filepath.Join(w.dir, "kubeconfig") }

func (w *podWorker) writeKubeconfig() error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["localcloud"] = &clientcmdapi.Cluster{
		Server:               w.r.cfg.RESTConfig.Host,
		CertificateAuthority: filepath.Join(w.dir, "ca.crt"),
	}
	cfg.AuthInfos["serviceaccount"] = &clientcmdapi.AuthInfo{TokenFile: w.tokenPath()}
	cfg.Contexts["localcloud"] = &clientcmdapi.Context{Cluster: "localcloud", AuthInfo: "serviceaccount", Namespace: w.ns}
	cfg.CurrentContext = "localcloud"
	if err := clientcmd.WriteToFile(*cfg, w.kubeconfigPath()); err != nil {
		return fmt.Errorf("writing pod kubeconfig: %w", err)
	}
	return nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
