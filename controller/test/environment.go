package test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/crds"
	"github.com/nodewright/nodewright/test/localcloud"
)

// Env is the control plane a test package shares.
type Env struct {
	Cloud      *localcloud.Cloud
	RESTConfig *rest.Config
	// Client talks straight to the apiserver (no cache), so a test reads
	// its own writes.
	Client client.Client
}

// Scheme holds client-go's types and nodewright's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := v1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// Start starts a local cloud of the test's own, with nodewright's CRDs
// installed, for a test that must not share its package's; it stops when
// the test ends.
func Start(t testing.TB) *Env {
	t.Helper()
	c := localcloud.Start(t)
	if err := crds.Install(context.Background(), c.RESTConfig); err != nil {
		t.Fatal(err)
	}
	kube, err := client.New(c.RESTConfig, client.Options{Scheme: Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Cloud: c, RESTConfig: c.RESTConfig, Client: kube}
}

// Main runs a test package against one local cloud with nodewright's CRDs
// installed; call it from TestMain as os.Exit(test.Main(m, &env)).
func Main(m *testing.M, env **Env) int {
	return localcloud.RunMain(m, func(c *localcloud.Cloud) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := crds.Install(ctx, c.RESTConfig); err != nil {
			fmt.Fprintln(os.Stderr, "installing CRDs:", err)
			os.Exit(1)
		}
		kube, err := client.New(c.RESTConfig, client.Options{Scheme: Scheme()})
		if err != nil {
			fmt.Fprintln(os.Stderr, "client:", err)
			os.Exit(1)
		}
		*env = &Env{Cloud: c, RESTConfig: c.RESTConfig, Client: kube}
	})
}
