// Package operator wires the controller: Kubernetes and AWS clients, the
// controller-runtime manager (leader election, health probes, metrics), and
// every controller, in one place.
package operator

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/operator/options"
	"github.com/nodewright/nodewright/controller/utils/awshttp"
	"github.com/nodewright/nodewright/controller/utils/awsmetrics"
)

// Operator holds what every controller is built from.
type Operator struct {
	manager.Manager
	Options    *options.Options
	RESTConfig *rest.Config
	AWS        aws.Config
	// KubernetesVersion is the apiserver's minor version, e.g. "1.37": it
	// picks the EKS-optimized AMIs.
	KubernetesVersion string
	Log               logr.Logger
}

// Scheme holds client-go's types and nodewright's.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// New builds the manager and clients. Cluster endpoint and CA come from the
// options or, when empty, from eks:DescribeCluster.
func New(ctx context.Context, opts *options.Options, log logr.Logger) (*Operator, error) {
	ctrl.SetLogger(log)
	if limit, ok := softMemoryLimit(opts.MemoryLimit); ok {
		debug.SetMemoryLimit(limit)
		log.Info("set the Go soft memory limit", "limitBytes", limit, "containerLimitBytes", opts.MemoryLimit)
	}
	restCfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, fmt.Errorf("loading Kubernetes config (KUBECONFIG, or in-cluster): %w", err)
	}
	restCfg.QPS, restCfg.Burst = float32(opts.KubeClientQPS), opts.KubeClientBurst
	scheme, err := Scheme()
	if err != nil {
		return nil, err
	}
	bind := func(port int) string {
		if port == 0 {
			return "0"
		}
		return ":" + strconv.Itoa(port)
	}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsserver.Options{BindAddress: bind(opts.MetricsPort), ExtraHandlers: profiling(opts.EnableProfiling)},
		HealthProbeBindAddress:        bind(opts.HealthProbePort),
		LeaderElection:                opts.LeaderElection,
		LeaderElectionID:              "nodewright-leader-election",
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		// Nothing reads managed fields, and on a pod or node they are a large
		// share of what the cache holds for it. Pods lose more (trimPod).
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{&corev1.Pod{}: {Transform: trimPod}}},
	})
	if err != nil {
		return nil, fmt.Errorf("creating controller manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}

	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRetryMaxAttempts(8))
	if err != nil {
		return nil, fmt.Errorf("loading AWS config: %w", err)
	}
	awsCfg.HTTPClient = awshttp.BufferResponses(awsCfg.HTTPClient)
	awsmetrics.Instrument(&awsCfg)
	webIdentityOnEndpoint(&awsCfg)
	if awsCfg.Region == "" {
		return nil, fmt.Errorf("no AWS region: set AWS_REGION")
	}
	if opts.ClusterEndpoint == "" || opts.ClusterCABundle == "" {
		out, err := eks.NewFromConfig(awsCfg).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(opts.ClusterName)})
		if err != nil {
			return nil, fmt.Errorf("looking up cluster %s with eks:DescribeCluster (set CLUSTER_ENDPOINT and CLUSTER_CA_BUNDLE to skip it): %w", opts.ClusterName, err)
		}
		if opts.ClusterEndpoint == "" {
			opts.ClusterEndpoint = aws.ToString(out.Cluster.Endpoint)
		}
		if opts.ClusterCABundle == "" && out.Cluster.CertificateAuthority != nil {
			opts.ClusterCABundle = aws.ToString(out.Cluster.CertificateAuthority.Data)
		}
	}
	if opts.ClusterCABundle == "" && len(restCfg.CAData) > 0 {
		opts.ClusterCABundle = base64.StdEncoding.EncodeToString(restCfg.CAData)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(restCfg)
	if err != nil {
		return nil, err
	}
	ver, err := dc.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("reading the Kubernetes version: %w", err)
	}
	return &Operator{Manager: mgr, Options: opts, RESTConfig: restCfg, AWS: awsCfg, Log: log,
		KubernetesVersion: ver.Major + "." + strings.TrimSuffix(ver.Minor, "+")}, nil
}

// webIdentityOnEndpoint sends IRSA's AssumeRoleWithWebIdentity to the
// configured endpoint. The SDK resolves credentials before it reads
// AWS_ENDPOINT_URL, so its web identity provider always calls the public
// STS endpoint (aws/aws-sdk-go-v2#2802). On EKS there is no override and
// this does nothing.
func webIdentityOnEndpoint(cfg *aws.Config) {
	role, token := os.Getenv("AWS_ROLE_ARN"), os.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
	if cfg.BaseEndpoint == nil || role == "" || token == "" {
		return
	}
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewWebIdentityRoleProvider(sts.NewFromConfig(*cfg), role,
		stscreds.IdentityTokenFile(token), func(o *stscreds.WebIdentityRoleOptions) { o.RoleSessionName = os.Getenv("AWS_ROLE_SESSION_NAME") }))
}

// softMemoryLimit is 90% of the container's memory limit, as Karpenter
// sets it: the rest is room for what the runtime does not count (stacks
// in flight, fragmentation). An explicit GOMEMLIMIT is the user's choice
// and wins.
func softMemoryLimit(containerLimit int) (int64, bool) {
	if containerLimit <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	return int64(float64(containerLimit) * 0.9), true
}

// profiling is Go's pprof handlers, served on the metrics port when asked
// for (ENABLE_PROFILING, Karpenter's name for the same switch).
func profiling(enabled bool) map[string]http.Handler {
	if !enabled {
		return nil
	}
	return map[string]http.Handler{
		"/debug/pprof/":        http.HandlerFunc(pprof.Index),
		"/debug/pprof/cmdline": http.HandlerFunc(pprof.Cmdline),
		"/debug/pprof/profile": http.HandlerFunc(pprof.Profile),
		"/debug/pprof/symbol":  http.HandlerFunc(pprof.Symbol),
		"/debug/pprof/trace":   http.HandlerFunc(pprof.Trace),
	}
}
