package localcloud

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

type componentSpec struct {
	name    string
	args    []string
	healthy func(ctx context.Context) error
}

// ServiceAccountIssuer is the issuer of the cluster's service-account tokens.
const ServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

// ServiceCIDR is the cluster's service range.
const ServiceCIDR = "10.96.0.0/16"

func (c *Cloud) componentSpecs(keys pki, kwokStages string) map[string]componentSpec {
	dir := c.opts.Dir
	port := func(name string) string { return strconv.Itoa(c.state.Ports[name]) }
	kubeconfig := func(name string) string { return filepath.Join(dir, "certs", name+".kubeconfig") }
	etcdClient := "http://127.0.0.1:" + port("etcd-client")
	etcdPeer := "http://127.0.0.1:" + port("etcd-peer")

	// The controller manager and scheduler serve health over self-signed TLS.
	insecure := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	plain := &http.Client{Timeout: 2 * time.Second}

	return map[string]componentSpec{
		Etcd: {name: Etcd, args: []string{
			"--name=localcloud",
			"--data-dir=" + filepath.Join(dir, "etcd"),
			"--listen-client-urls=" + etcdClient,
			"--advertise-client-urls=" + etcdClient,
			"--listen-peer-urls=" + etcdPeer,
			"--initial-advertise-peer-urls=" + etcdPeer,
			"--initial-cluster=localcloud=" + etcdPeer,
			// A throwaway cluster on one disk: durability per write buys nothing.
			"--unsafe-no-fsync",
			"--quota-backend-bytes=8589934592",
			"--log-level=warn",
		}, healthy: httpOK(plain, etcdClient+"/health", `"health":"true"`)},

		APIServer: {name: APIServer, args: []string{
			"--etcd-servers=" + etcdClient,
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			// The lease reconciler refuses a loopback address; nothing in the
			// local cloud reaches the apiserver through the kubernetes Service.
			"--endpoint-reconciler-type=none",
			"--secure-port=" + port(APIServer),
			"--tls-cert-file=" + keys.path("apiserver.crt"),
			"--tls-private-key-file=" + keys.path("apiserver.key"),
			"--client-ca-file=" + keys.CA(),
			"--service-account-issuer=" + ServiceAccountIssuer,
			"--service-account-key-file=" + keys.path("sa.pub"),
			"--service-account-signing-key-file=" + keys.path("sa.key"),
			"--service-cluster-ip-range=" + ServiceCIDR,
			"--authorization-mode=Node,RBAC",
			"--allow-privileged=true",
			"--cert-dir=" + filepath.Join(dir, "certs", "apiserver"),
			"--profiling=false",
			"--event-ttl=1h",
		}, healthy: c.apiserverReady},

		ControllerManager: {name: ControllerManager, args: []string{
			"--kubeconfig=" + kubeconfig(ControllerManager),
			"--authentication-kubeconfig=" + kubeconfig(ControllerManager),
			"--authorization-kubeconfig=" + kubeconfig(ControllerManager),
			"--bind-address=127.0.0.1",
			"--secure-port=" + port(ControllerManager),
			"--cert-dir=" + filepath.Join(dir, "certs", ControllerManager),
			"--leader-elect=false",
			// Every default controller, nodelifecycle among them: without it
			// nodes keep the node.kubernetes.io/not-ready taint.
			"--controllers=*",
			"--use-service-account-credentials=true",
			"--service-account-private-key-file=" + keys.path("sa.key"),
			"--root-ca-file=" + keys.CA(),
			"--cluster-signing-cert-file=" + keys.CA(),
			"--cluster-signing-key-file=" + keys.path("ca.key"),
			"--service-cluster-ip-range=" + ServiceCIDR,
			"--profiling=false",
			// Upstream's client defaults (20 QPS) suit a small cluster: at a
			// thousand pods the ReplicaSet and node lifecycle controllers
			// queue behind each other. Kubernetes' own scalability jobs run
			// with these values.
			"--kube-api-qps=100",
			"--kube-api-burst=100",
		}, healthy: httpOK(insecure, "https://127.0.0.1:"+port(ControllerManager)+"/healthz", "ok")},

		Scheduler: {name: Scheduler, args: []string{
			"--kubeconfig=" + kubeconfig(Scheduler),
			"--authentication-kubeconfig=" + kubeconfig(Scheduler),
			"--authorization-kubeconfig=" + kubeconfig(Scheduler),
			"--bind-address=127.0.0.1",
			"--secure-port=" + port(Scheduler),
			"--cert-dir=" + filepath.Join(dir, "certs", Scheduler),
			"--leader-elect=false",
			"--profiling=false",
			// As the scalability jobs run it: at 50 QPS, binding and status
			// updates of a thousand pods alone take 40 s.
			"--kube-api-qps=100",
		}, healthy: httpOK(insecure, "https://127.0.0.1:"+port(Scheduler)+"/healthz", "ok")},

		Kwok: {name: Kwok, args: []string{
			"--kubeconfig=" + kubeconfig(Kwok),
			"--config=" + kwokStages,
			"--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=" + KwokNodeAnnotation + "=fake",
			"--server-address=127.0.0.1:" + port(Kwok),
			"--node-lease-duration-seconds=40",
		}, healthy: httpOK(plain, "http://127.0.0.1:"+port(Kwok)+"/healthz", "")},

		Registry: {name: Registry, args: []string{"registry",
			"--addr=127.0.0.1:" + port(Registry),
			"--dir=" + filepath.Join(dir, "registry"),
		}, healthy: httpOK(plain, "http://127.0.0.1:"+port(Registry)+"/v2/", "")},

		AWS: c.awsSpec(),
	}
}

// awsSpec is the AWS endpoint daemon, which also runs the node agent and
// the pod runtime.
func (c *Cloud) awsSpec() componentSpec {
	plain := &http.Client{Timeout: 2 * time.Second}
	return componentSpec{name: AWS, args: c.awsArgs(),
		healthy: httpOK(plain, "http://127.0.0.1:"+strconv.Itoa(c.state.Ports[AWS])+"/_localcloud/health", "ok")}
}

// awsArgs are the flags of `localcloud serve`, the AWS endpoint daemon.
func (c *Cloud) awsArgs() []string {
	args := []string{"serve",
		"--dir=" + c.opts.Dir,
		"--addr=127.0.0.1:" + strconv.Itoa(c.state.Ports[AWS]),
		"--kubeconfig=" + c.Kubeconfig,
		"--region=" + c.opts.Region,
		"--cluster-name=" + c.opts.ClusterName,
		"--profile=" + c.opts.Profile,
		"--registry=" + c.RegistryHost(),
	}
	if c.opts.NoAuth {
		args = append(args, "--no-auth")
	}
	return args
}

// apiserverReady checks /readyz, then that the default namespace exists, so
// callers can create objects the moment Up returns.
func (c *Cloud) apiserverReady(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.RESTConfig)
	if err != nil {
		return err
	}
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("/readyz: %w: %s", err, body)
	}
	_, err = cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
	return err
}

func httpOK(client *http.Client, url, want string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			return fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
		}
		return nil
	}
}

// writeKubeconfigs writes the admin kubeconfig (the one users get) and one
// per component identity, each a client certificate signed by the cluster CA.
func (c *Cloud) writeKubeconfigs(keys pki) error {
	server := c.APIServerURL()
	files := map[string]string{
		c.Kubeconfig: "admin",
		filepath.Join(c.opts.Dir, "certs", ControllerManager+".kubeconfig"): "controller-manager",
		filepath.Join(c.opts.Dir, "certs", Scheduler+".kubeconfig"):         "scheduler",
		filepath.Join(c.opts.Dir, "certs", Kwok+".kubeconfig"):              "kwok",
	}
	for path, identity := range files {
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["localcloud"] = &clientcmdapi.Cluster{Server: server, CertificateAuthority: keys.CA()}
		cfg.AuthInfos[identity] = &clientcmdapi.AuthInfo{
			ClientCertificate: keys.path(identity + ".crt"),
			ClientKey:         keys.path(identity + ".key"),
		}
		cfg.Contexts["localcloud"] = &clientcmdapi.Context{Cluster: "localcloud", AuthInfo: identity}
		cfg.CurrentContext = "localcloud"
		if err := clientcmd.WriteToFile(*cfg, path); err != nil {
			return fmt.Errorf("writing kubeconfig %s: %w", path, err)
		}
	}
	return nil
}

// writeEnv writes a file a shell can source to talk to the cloud.
func (c *Cloud) writeEnv() error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by localcloud up: source it to use the local cloud.\n")
	fmt.Fprintf(&b, "export KUBECONFIG=%q\n", c.Kubeconfig)
	env := append(c.AWSEnv(), "NODEWRIGHT_REGISTRY="+c.RegistryHost())
	if c.controllerImage != "" {
		env = append(env, "NODEWRIGHT_CONTROLLER_IMAGE="+c.controllerImage)
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "export %s=%q\n", k, v)
	}
	return os.WriteFile(filepath.Join(c.opts.Dir, "env"), []byte(b.String()), 0o644)
}

// The administrator's keys: the identity Terraform and the tests sign
// with. The AWS endpoint checks every signature against them or another
// key it issued.
const (
	AccessKeyID     = awsemu.AdminAccessKeyID
	SecretAccessKey = awsemu.AdminSecretAccessKey
)

// AWSEnv is the environment an AWS SDK client (or the controller) needs to
// use the local cloud: endpoint, region, credentials and the EKS cluster.
func (c *Cloud) AWSEnv() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + c.AWSEndpoint(),
		"AWS_REGION=" + c.opts.Region,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"CLUSTER_NAME=" + c.opts.ClusterName,
		"CLUSTER_ENDPOINT=" + c.APIServerURL(),
	}
}
