package provider

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-logr/logr"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// kubeScheme mirrors controller/operator.Scheme(): client-go's types plus
// nodewright's. It is built here rather than imported so the provider binary
// doesn't link the whole operator.
func kubeScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

var silenceControllerRuntime sync.Once

// kubeClient resolves the cluster (lazily, see providerData.Kube) and returns
// a controller-runtime client. Only Create/Read/Update/Delete/ImportState may
// call it: plans must work without a cluster.
func kubeClient(ctx context.Context, d *providerData) (client.Client, error) {
	// controller-runtime prints a stack trace to stderr unless a logger is
	// set; the provider reports through diagnostics instead.
	silenceControllerRuntime.Do(func() { ctrllog.SetLogger(logr.Discard()) })
	if d == nil {
		return nil, fmt.Errorf("the provider is not configured")
	}
	cfg, err := d.Kube(ctx)
	if err != nil {
		return nil, err
	}
	s, err := kubeScheme()
	if err != nil {
		return nil, fmt.Errorf("building the Kubernetes scheme: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		return nil, fmt.Errorf("building a Kubernetes client for %s: %w", cfg.Host, err)
	}
	return c, nil
}
