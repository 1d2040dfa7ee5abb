package provisioning_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/fake"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
	"github.com/nodewright/nodewright/controller/crds"
	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
	"github.com/nodewright/nodewright/test/localcloud"
)

// Pending Deployment pods, marked unschedulable by the real kube-scheduler,
// become NodeClaims through a real manager.
func TestRegisterEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lc, mgr, scheme, _ := startManager(ctx, t)

	kube := mgr.GetAPIReader()
	direct, _ := client.New(lc.RESTConfig, client.Options{Scheme: scheme})
	expectations.ExpectCreated(ctx, t, direct,
		test.EC2NodeClass(test.EC2NodeClassOptions{Name: "default"}),
		test.NodePool(test.NodePoolOptions{Name: "default"}),
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](5),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "c", Image: "pause", Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}}}}})
	deadline := time.Now().Add(60 * time.Second)
	for {
		var claims v1.NodeClaimList
		if err := kube.List(ctx, &claims); err != nil {
			t.Fatal(err)
		}
		var pods corev1.PodList
		_ = kube.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels{"app": "web"})
		nominated := 0
		for _, pod := range pods.Items {
			if name := pod.Annotations[provisioning.NominatedAnnotationKey]; name != "" {
				nominated++
			}
		}
		if len(claims.Items) > 0 && nominated == 5 {
			for _, nc := range claims.Items {
				if nc.Labels[v1.NodePoolLabelKey] != "default" {
					t.Errorf("claim %s labels %v", nc.Name, nc.Labels)
				}
			}
			t.Logf("%d nodeclaims for 5 pods", len(claims.Items))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s: %d nodeclaims, %d of %d pods nominated", len(claims.Items), nominated, len(pods.Items))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startManager starts a local control plane with the CRDs, and a real
// manager running the provisioning controller over a fake cloud with
// eight synthetic instance types, until ctx ends.
func startManager(ctx context.Context, t *testing.T) (*localcloud.Cloud, manager.Manager, *runtime.Scheme, *fake.CloudProvider) {
	t.Helper()
	lc := localcloud.Start(t)
	if err := crds.Install(ctx, lc.RESTConfig); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1.AddToScheme(scheme)
	// Controller names are unique per process: -count=N, and every test of
	// the package, start the same controller again.
	mgr, err := manager.New(lc.RESTConfig, manager.Options{Scheme: scheme,
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Controller: config.Controller{SkipNameValidation: ptr.To(true)}})
	if err != nil {
		t.Fatal(err)
	}
	cloud := fake.New(workloads.SyntheticInstanceTypes(8))
	p := provisioning.New(mgr.GetClient(), cloud, clock.RealClock{}, mgr.GetEventRecorder("nodewright"),
		provisioning.Options{BatchIdleDuration: 200 * time.Millisecond, BatchMaxDuration: 2 * time.Second, APIReader: mgr.GetAPIReader()})
	if err := provisioning.NewController(mgr.GetClient(), p).Register(ctx, mgr); err != nil {
		t.Fatal(err)
	}
	go func() { _ = mgr.Start(ctx) }()
	return lc, mgr, scheme, cloud
}
