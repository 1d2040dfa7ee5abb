// Package testutil starts one local cloud per controller test package and
// builds the NodePools, NodeClaims and Nodes those tests need. It is for
// tests only; nothing in the controller binary imports it.
package testutil

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/crds"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
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

// Main runs a test package against one local cloud with nodewright's CRDs
// installed; call it from TestMain as os.Exit(testutil.Main(m, &env)).
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

// InstanceTypes are two small on-demand types in two zones for the fake
// cloud provider, plus one with a GPU.
func InstanceTypes() []*scheduling.InstanceType {
	mk := func(name string, cpu, mem string, price float64, extra corev1.ResourceList) *scheduling.InstanceType {
		alloc := corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(cpu),
			corev1.ResourceMemory: resource.MustParse(mem),
			corev1.ResourcePods:   resource.MustParse("110"),
		}
		for k, v := range extra {
			alloc[k] = v
		}
		return &scheduling.InstanceType{
			Name: name,
			Labels: map[string]string{
				corev1.LabelInstanceTypeStable: name,
				corev1.LabelArchStable:         "amd64",
				corev1.LabelOSStable:           "linux",
			},
			Allocatable: alloc,
			Offerings: []scheduling.Offering{
				{Zone: "us-east-1a", CapacityType: v1.CapacityTypeOnDemand, Price: price, Available: true},
				{Zone: "us-east-1b", CapacityType: v1.CapacityTypeOnDemand, Price: price * 1.1, Available: true},
			},
		}
	}
	return []*scheduling.InstanceType{
		mk("m5.large", "2", "8Gi", 0.096, nil),
		mk("g4dn.xlarge", "4", "16Gi", 0.526, corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}),
	}
}

// NodePool is a minimal valid pool.
func NodePool(name string) *v1.NodePool {
	return &v1.NodePool{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.NodePoolSpec{Template: v1.NodeClaimTemplate{Spec: v1.NodeClaimTemplateSpec{
			NodeClassRef: &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"},
		}}},
	}
}

// NodeClaim is an unlaunched claim of the pool, named "<pool>-<random>".
func NodeClaim(pool string) *v1.NodeClaim {
	return &v1.NodeClaim{
		ObjectMeta: metav1.ObjectMeta{GenerateName: pool + "-", Labels: map[string]string{v1.NodePoolLabelKey: pool}},
		Spec: v1.NodeClaimSpec{
			NodeClassRef: &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"},
		},
	}
}

// NodeFor is the Node a kubelet would register for a launched claim: kwok
// runs it (and marks it Ready), it carries the unregistered taint, and its
// capacity is the claim's.
func NodeFor(nc *v1.NodeClaim, name string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{localcloud.KwokNodeAnnotation: "fake"},
			Labels:      map[string]string{corev1.LabelHostname: name},
		},
		Spec: corev1.NodeSpec{
			ProviderID: nc.Status.ProviderID,
			Taints:     append([]corev1.Taint{v1.UnregisteredNoExecuteTaint}, nc.Spec.StartupTaints...),
		},
		Status: corev1.NodeStatus{Capacity: nc.Status.Capacity.DeepCopy(), Allocatable: nc.Status.Allocatable.DeepCopy()},
	}
}

// Eventually polls cond every 100 ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
