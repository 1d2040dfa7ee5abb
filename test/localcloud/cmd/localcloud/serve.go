package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
	"github.com/nodewright/nodewright/test/localcloud/nodeagent"
	"github.com/nodewright/nodewright/test/localcloud/podruntime"
)

// profiles set how long instances take to boot and join.
var profiles = map[string]struct {
	timing    awsemu.Timing
	bootDelay time.Duration
}{
	"default":   {awsemu.Timing{PendingToRunning: time.Second, ShuttingDownToTerminated: 2 * time.Second}, 2 * time.Second},
	"realistic": {awsemu.Timing{PendingToRunning: 8 * time.Second, ShuttingDownToTerminated: 30 * time.Second}, 22 * time.Second},
}

// serve runs the AWS endpoint daemon that `up` starts as the "aws" component.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	dir := fs.String("dir", "", "state directory")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	kubeconfig := fs.String("kubeconfig", "", "admin kubeconfig of the local control plane")
	region := fs.String("region", "us-east-1", "default AWS region")
	cluster := fs.String("cluster-name", "localcloud", "EKS cluster name")
	profile := fs.String("profile", "default", "timing profile: default or realistic")
	noAuth := fs.Bool("no-auth", false, "accept unsigned requests and skip IAM authorization (debugging only)")
	registry := fs.String("registry", "", "host:port of the OCI registry the system node pulls images from")
	_ = fs.Parse(args)
	if *dir == "" || *kubeconfig == "" {
		return fmt.Errorf("serve needs --dir and --kubeconfig")
	}
	p, ok := profiles[*profile]
	if !ok {
		return fmt.Errorf("unknown profile %q (default, realistic)", *profile)
	}
	restCfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	ca, err := os.ReadFile(restCfg.CAFile)
	if err != nil {
		return fmt.Errorf("reading cluster CA: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	emu, err := awsemu.New(awsemu.Options{
		// STS and Pod Identity verify service-account tokens against the
		// keys the apiserver publishes, as AWS fetches an issuer's JWKS.
		ClusterKeys: func(ctx context.Context) ([]byte, error) {
			return client.CoreV1().RESTClient().Get().AbsPath("/openid/v1/jwks").DoRaw(ctx)
		},
		Region:    *region,
		Addr:      *addr,
		StateFile: filepath.Join(*dir, "aws-state.json"),
		Logger:    logger,
		NoAuth:    *noAuth,
		World: awsemu.WorldOptions{
			ClusterName:     *cluster,
			ClusterEndpoint: restCfg.Host,
			ClusterCA:       ca,
			OIDCIssuer:      localcloud.ServiceAccountIssuer,
			Timing:          p.timing,
		},
	})
	if err != nil {
		return err
	}
	logger.Info("serving AWS endpoint", "url", emu.URL, "region", *region, "cluster", *cluster, "profile", *profile, "iamEnforced", !*noAuth)

	agent, err := nodeagent.New(nodeagent.Config{Emulator: emu, Client: client, BootDelay: p.bootDelay, Region: *region, Logger: logger})
	if err != nil {
		return errors.Join(err, emu.Close())
	}

	runtime, err := podruntime.New(podruntime.Config{Client: client, RESTConfig: restCfg, Registry: *registry,
		StateDir: filepath.Join(*dir, "podruntime"), Logger: logger, AWSIdentity: awsIdentity(emu, client)})
	if err != nil {
		return errors.Join(err, emu.Close())
	}

	ctx, stop := untilStopped()
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for name, run := range map[string]func(context.Context) error{"node agent": agent.Run, "pod runtime": runtime.Run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
				stop()
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
	logger.Info("stopping AWS endpoint")
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(append(all, emu.Close())...)
}

// awsIdentity gives pods what EKS's webhooks would: a Pod Identity token
// and the agent's endpoint when their service account has an association,
// else a web identity token and the role when the service account carries
// IRSA's role annotation.
func awsIdentity(emu *awsemu.Server, client kubernetes.Interface) func(context.Context, *corev1.Pod) (*podruntime.AWSIdentity, error) {
	return func(ctx context.Context, pod *corev1.Pod) (*podruntime.AWSIdentity, error) {
		sa := pod.Spec.ServiceAccountName
		if sa == "" {
			sa = "default"
		}
		associated := false
		emu.Do(func(w *awsemu.World) {
			for _, a := range w.EKS.PodIdentityAssociations {
				associated = associated || (a.Namespace == pod.Namespace && a.ServiceAccount == sa)
			}
		})
		if associated {
			return &podruntime.AWSIdentity{Audience: awsemu.PodIdentityAudience, TokenFile: "eks-pod-identity-token", Env: map[string]string{
				"AWS_CONTAINER_CREDENTIALS_FULL_URI":     emu.URL + awsemu.PodIdentityPath,
				"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": podruntime.TokenFileVar,
			}}, nil
		}
		account, err := client.CoreV1().ServiceAccounts(pod.Namespace).Get(ctx, sa, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if arn := account.Annotations["eks.amazonaws.com/role-arn"]; arn != "" {
			return &podruntime.AWSIdentity{Audience: "sts.amazonaws.com", TokenFile: "aws-web-identity-token", Env: map[string]string{
				"AWS_ROLE_ARN":                arn,
				"AWS_WEB_IDENTITY_TOKEN_FILE": podruntime.TokenFileVar,
				"AWS_STS_REGIONAL_ENDPOINTS":  "regional",
			}}, nil
		}
		return nil, nil
	}
}
