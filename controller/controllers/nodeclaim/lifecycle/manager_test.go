package lifecycle_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/fake"
	nodetermination "github.com/nodewright/nodewright/controller/controllers/node/termination"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/garbagecollection"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/lifecycle"
	nodeclaimtermination "github.com/nodewright/nodewright/controller/controllers/nodeclaim/termination"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
	"github.com/nodewright/nodewright/controller/utils/index"
)

// Every controller here, registered with a real manager, takes a claim
// from creation to Initialized once its Node joins, and tears it all down
// when the claim is deleted.
func TestManagerEndToEnd(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	logger := zapr.NewLogger(zap.New(core))
	ctx, cancel := context.WithCancel(log.IntoContext(context.Background(), logger))
	log.SetLogger(logger)

	mgr, err := manager.New(env.RESTConfig, manager.Options{
		Scheme:                 test.Scheme(),
		Logger:                 logger,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := index.Register(ctx, mgr); err != nil {
		t.Fatal(err)
	}
	cloud := fake.New(test.InstanceTypes())
	clk := clock.RealClock{}
	recorder := mgr.GetEventRecorder("nodewright")
	for _, r := range []interface {
		Register(context.Context, manager.Manager) error
	}{
		lifecycle.NewController(mgr.GetClient(), cloud, clk, recorder, lifecycle.Options{}),
		nodeclaimtermination.NewController(mgr.GetClient(), cloud, clk),
		nodetermination.NewController(mgr.GetClient(), cloud, clk, recorder),
		garbagecollection.NewController(mgr.GetClient(), cloud, clk, garbagecollection.Options{}),
	} {
		if err := r.Register(ctx, mgr); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	// Every fake numbers its instances from 1, so a claim left by another
	// test would share this one's providerID.
	expectations.Eventually(t, 30*time.Second, "other tests' claims to go", func() bool {
		var list v1.NodeClaimList
		if err := env.Client.List(ctx, &list); err != nil {
			t.Fatal(err)
		}
		return len(list.Items) == 0
	})

	np := test.NodePool(test.NodePoolOptions{Name: ""})
	np.GenerateName = "e2e-"
	if err := env.Client.Create(ctx, np); err != nil {
		t.Fatal(err)
	}
	nc := test.NodeClaim(test.NodeClaimOptions{NodePool: np.Name})
	if err := env.Client.Create(ctx, nc); err != nil {
		t.Fatal(err)
	}
	get := func() *v1.NodeClaim {
		got := &v1.NodeClaim{}
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(nc), got); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			t.Fatal(err)
		}
		return got
	}
	expectations.Eventually(t, 30*time.Second, "Launched", func() bool { return get().IsTrue(v1.ConditionTypeLaunched) })

	// The instance's kubelet joins.
	node := test.NodeFor(get(), "e2e-"+nc.Name)
	if err := env.Client.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	expectations.Eventually(t, 30*time.Second, "Registered", func() bool { return get().IsTrue(v1.ConditionTypeRegistered) })
	expectations.Eventually(t, 60*time.Second, "Initialized and Ready", func() bool {
		got := get()
		return got.IsTrue(v1.ConditionTypeInitialized) && got.IsTrue(v1.ConditionTypeReady)
	})
	n := &corev1.Node{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(node), n); err != nil {
		t.Fatal(err)
	}
	if n.Labels[v1.NodeInitializedLabelKey] != "true" || hasTaintKey(n, v1.UnregisteredTaintKey) {
		t.Errorf("node labels %v taints %v", n.Labels, n.Spec.Taints)
	}
	// Each step was counted once for the pool, with how long it took.
	for _, name := range []string{"nodewright_nodeclaims_launched_total", "nodewright_nodeclaims_registered_total",
		"nodewright_nodeclaims_initialized_total"} {
		if got := expectations.Metric(t, name, map[string]string{"nodepool": np.Name}); got != 1 {
			t.Errorf("%s{nodepool=%q} = %v, want 1", name, np.Name, got)
		}
	}
	if got := expectations.Metric(t, "nodewright_nodeclaims_step_duration_seconds", map[string]string{"nodepool": np.Name}); got != 3 {
		t.Errorf("step durations observed for the pool: %v, want 3 (launch, registration, initialization)", got)
	}

	// Deleting the claim drains and deletes the Node, then the instance.
	if err := env.Client.Delete(ctx, get()); err != nil {
		t.Fatal(err)
	}
	expectations.Eventually(t, 60*time.Second, "claim, node and instance gone", func() bool {
		list, _ := cloud.List(ctx)
		return get() == nil && len(list) == 0 &&
			apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(node), &corev1.Node{}))
	})
	for _, msg := range []string{"launched instance", "registered node", "initialized", "cordoned", "drained", "terminated instance", "deleted node"} {
		if logs.FilterMessage(msg).Len() == 0 {
			t.Errorf("no %q log line", msg)
		}
	}
	launched := logs.FilterMessage("launched instance").All()
	if len(launched) > 0 {
		fields := launched[0].ContextMap()
		for _, k := range []string{"instance", "type", "zone", "capacityType", "price", "nodeclaim"} {
			if _, ok := fields[k]; !ok {
				t.Errorf("launched instance log lacks %q: %v", k, fields)
			}
		}
	}
}
