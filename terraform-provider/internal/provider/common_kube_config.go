package provider

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

type kubeSource struct {
	m   kubernetesModel
	aws aws.Config

	// mu guards cfg and err.
	mu  sync.Mutex
	cfg *rest.Config
	err error
}

func newKubeSource(m *kubernetesModel, awsCfg aws.Config) *kubeSource {
	k := &kubeSource{aws: awsCfg}
	if m != nil {
		k.m = *m
	}
	return k
}

func envOr(v, env string) string {
	if v != "" {
		return v
	}
	return os.Getenv(env)
}

func (k *kubeSource) config(ctx context.Context) (*rest.Config, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cfg != nil || k.err != nil {
		return k.cfg, k.err
	}
	k.cfg, k.err = k.resolve(ctx)
	if k.err != nil {
		k.err = fmt.Errorf("connecting to the cluster (provider \"kubernetes\" block): %w", k.err)
	}
	return k.cfg, k.err
}

func (k *kubeSource) resolve(ctx context.Context) (*rest.Config, error) {
	host := envOr(k.m.Host.ValueString(), "KUBE_HOST")
	ca := envOr(k.m.ClusterCACertificate.ValueString(), "KUBE_CLUSTER_CA_CERT_DATA")
	token := envOr(k.m.Token.ValueString(), "KUBE_TOKEN")
	if name := k.m.EKSClusterName.ValueString(); name != "" {
		out, err := eks.NewFromConfig(k.aws).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("looking up EKS cluster %s: %w", name, err)
		}
		host = aws.ToString(out.Cluster.Endpoint)
		if out.Cluster.CertificateAuthority != nil {
			pem, err := base64.StdEncoding.DecodeString(aws.ToString(out.Cluster.CertificateAuthority.Data))
			if err != nil {
				return nil, fmt.Errorf("decoding the CA of EKS cluster %s: %w", name, err)
			}
			ca = string(pem)
		}
		token, err = EKSToken(ctx, k.aws, name)
		if err != nil {
			return nil, err
		}
	}
	if host != "" {
		return &rest.Config{Host: host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: []byte(ca)}}, nil
	}
	path := envOr(envOr(k.m.ConfigPath.ValueString(), "KUBE_CONFIG_PATH"), "KUBECONFIG")
	if path == "" {
		return nil, fmt.Errorf("no cluster configured: set host, config_path (or KUBECONFIG) or eks_cluster_name")
	}
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: envOr(k.m.ConfigContext.ValueString(), "KUBE_CTX")}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
}

// EKSToken mints a bearer token for an EKS cluster the way
// aws-iam-authenticator does: a presigned sts:GetCallerIdentity URL, with
// the cluster name in the signed x-k8s-aws-id header, base64url-encoded
// behind "k8s-aws-v1.". Tokens live 15 minutes.
func EKSToken(ctx context.Context, cfg aws.Config, cluster string) (string, error) {
	presigner := sts.NewPresignClient(sts.NewFromConfig(cfg))
	req, err := presigner.PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.PresignOptions) {
		o.ClientOptions = append(o.ClientOptions, func(o *sts.Options) {
			o.APIOptions = append(o.APIOptions, smithyhttp.SetHeaderValue("x-k8s-aws-id", cluster), smithyhttp.SetHeaderValue("X-Amz-Expires", "60"))
		})
	})
	if err != nil {
		return "", fmt.Errorf("presigning sts:GetCallerIdentity for EKS cluster %s: %w", cluster, err)
	}
	return "k8s-aws-v1." + base64.RawURLEncoding.EncodeToString([]byte(req.URL)), nil
}
