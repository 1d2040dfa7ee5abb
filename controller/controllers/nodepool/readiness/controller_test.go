package readiness_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/nodepool/readiness"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
)

var env *test.Env

func TestMain(m *testing.M) { os.Exit(test.Main(m, &env)) }

func nodeClass(t *testing.T, name string, ready bool, finalizers ...string) {
	t.Helper()
	ctx := context.Background()
	nc := test.EC2NodeClass(test.EC2NodeClassOptions{Name: name, Finalizers: finalizers})
	expectations.ExpectCreated(ctx, t, env.Client, nc)
	set := func(typ string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&nc.Status.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg})
	}
	if ready {
		set(v1.ConditionTypeSubnetsReady, metav1.ConditionTrue, "Resolved", "")
		set(v1.ConditionTypeReady, metav1.ConditionTrue, "Ready", "")
	} else {
		set(v1.ConditionTypeSubnetsReady, metav1.ConditionFalse, "NotFound", "no subnet matches subnetSelectorTerms [{tags: k=v}]")
		set(v1.ConditionTypeReady, metav1.ConditionFalse, "NotReady", "SubnetsReady not ready")
	}
	expectations.ExpectStatusUpdated(ctx, t, env.Client, nc)
}

func pool(t *testing.T, name, class string, budgets ...v1.Budget) *v1.NodePool {
	t.Helper()
	np := test.NodePool(test.NodePoolOptions{Name: name, NodeClass: class, Budgets: budgets})
	expectations.ExpectCreated(context.Background(), t, env.Client, np)
	return np
}

// reconcile runs the controller on the stored pool and returns it as stored
// afterwards. asServed edits the pool as read, to stand for a value the
// API server keeps from an older, looser CRD but would not admit today.
func reconcile(t *testing.T, name string, asServed ...func(*v1.NodePool)) *v1.NodePool {
	t.Helper()
	ctx := context.Background()
	var np v1.NodePool
	if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &np); err != nil {
		t.Fatal(err)
	}
	for _, edit := range asServed {
		edit(&np)
	}
	if _, err := readiness.NewController(env.Client).Reconcile(ctx, &np); err != nil {
		t.Fatal(err)
	}
	var out v1.NodePool
	if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func expectCondition(t *testing.T, np *v1.NodePool, typ string, status metav1.ConditionStatus, reason, message string) {
	t.Helper()
	c := np.GetCondition(typ)
	if c == nil {
		t.Fatalf("nodepool %s has no %s condition: %+v", np.Name, typ, np.Status.Conditions)
	}
	if c.Status != status || (reason != "" && c.Reason != reason) || !strings.Contains(c.Message, message) {
		t.Errorf("nodepool %s %s = %s/%s %q; want %s/%s containing %q", np.Name, typ, c.Status, c.Reason, c.Message, status, reason, message)
	}
	if c.ObservedGeneration != np.Generation {
		t.Errorf("nodepool %s %s observedGeneration %d, generation %d", np.Name, typ, c.ObservedGeneration, np.Generation)
	}
}

func TestReadinessConditions(t *testing.T) {
	nodeClass(t, "ready", true)
	nodeClass(t, "nosubnets", false)
	hour := &metav1.Duration{Duration: time.Hour}
	// The API server no longer admits it, but a pool stored before the
	// schedule rule tightened may still hold it.
	badSchedule := "0 25 * * *"

	t.Run("ready class", func(t *testing.T) {
		pool(t, "fine", "ready", v1.Budget{Nodes: "10%"})
		np := reconcile(t, "fine")
		expectCondition(t, np, v1.ConditionTypeNodeClassReady, metav1.ConditionTrue, "", "")
		expectCondition(t, np, v1.ConditionTypeDisruptionBudgetsValid, metav1.ConditionTrue, "", "")
		expectCondition(t, np, v1.ConditionTypeReady, metav1.ConditionTrue, "", "")
	})
	t.Run("class not found", func(t *testing.T) {
		pool(t, "orphan", "missing")
		np := reconcile(t, "orphan")
		expectCondition(t, np, v1.ConditionTypeNodeClassReady, metav1.ConditionFalse, v1.ReasonNodeClassNotFound, "EC2NodeClass missing not found")
		expectCondition(t, np, v1.ConditionTypeReady, metav1.ConditionFalse, "NotReady", "NodeClassReady is False")
	})
	t.Run("class not ready", func(t *testing.T) {
		pool(t, "stuck", "nosubnets")
		np := reconcile(t, "stuck")
		expectCondition(t, np, v1.ConditionTypeNodeClassReady, metav1.ConditionFalse, v1.ReasonNodeClassNotReady,
			"EC2NodeClass nosubnets not ready: SubnetsReady not ready: no subnet matches subnetSelectorTerms")
		expectCondition(t, np, v1.ConditionTypeDisruptionBudgetsValid, metav1.ConditionTrue, "", "")
		expectCondition(t, np, v1.ConditionTypeReady, metav1.ConditionFalse, "NotReady", "no subnet matches")
	})
	t.Run("class being deleted", func(t *testing.T) {
		nodeClass(t, "leaving", true, "test.nodewright.dev/hold")
		pool(t, "departing", "leaving")
		ctx := context.Background()
		nc := &v1.EC2NodeClass{ObjectMeta: metav1.ObjectMeta{Name: "leaving"}}
		if err := env.Client.Delete(ctx, nc); err != nil {
			t.Fatal(err)
		}
		np := reconcile(t, "departing")
		expectCondition(t, np, v1.ConditionTypeNodeClassReady, metav1.ConditionFalse, v1.ReasonNodeClassDeleting, "being deleted")
		_ = env.Client.Get(ctx, client.ObjectKey{Name: "leaving"}, nc)
		nc.Finalizers = nil
		_ = env.Client.Update(ctx, nc)
	})
	t.Run("invalid budget", func(t *testing.T) {
		pool(t, "misbudgeted", "ready", v1.Budget{Nodes: "10%"}, v1.Budget{Nodes: "0", Schedule: ptr.To("0 9 * * *"), Duration: hour})
		np := reconcile(t, "misbudgeted", func(np *v1.NodePool) { np.Spec.Disruption.Budgets[1].Schedule = &badSchedule })
		expectCondition(t, np, v1.ConditionTypeNodeClassReady, metav1.ConditionTrue, "", "")
		expectCondition(t, np, v1.ConditionTypeDisruptionBudgetsValid, metav1.ConditionFalse, v1.ReasonInvalidBudget, `budget 1: schedule "0 25 * * *": hour field`)
		expectCondition(t, np, v1.ConditionTypeReady, metav1.ConditionFalse, "NotReady", "DisruptionBudgetsValid is False (InvalidBudget)")

		// As the pool is stored, its budgets are fine: the condition clears.
		np = reconcile(t, "misbudgeted")
		expectCondition(t, np, v1.ConditionTypeDisruptionBudgetsValid, metav1.ConditionTrue, "", "")
		expectCondition(t, np, v1.ConditionTypeReady, metav1.ConditionTrue, "", "")
	})
	t.Run("class becomes ready", func(t *testing.T) {
		ctx := context.Background()
		var nc v1.EC2NodeClass
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "nosubnets"}, &nc); err != nil {
			t.Fatal(err)
		}
		meta.SetStatusCondition(&nc.Status.Conditions, metav1.Condition{Type: v1.ConditionTypeReady, Status: metav1.ConditionTrue, Reason: "Ready"})
		if err := env.Client.Status().Update(ctx, &nc); err != nil {
			t.Fatal(err)
		}
		np := reconcile(t, "stuck")
		expectCondition(t, np, v1.ConditionTypeNodeClassReady, metav1.ConditionTrue, "", "")
		expectCondition(t, np, v1.ConditionTypeReady, metav1.ConditionTrue, "", "")
	})
}

// Registered with a real manager, the controller follows the node class:
// a pool that names a class not yet created turns Ready when the class is
// created and resolved, with no change to the pool itself.
func TestReadinessFollowsNodeClass(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	mgr, err := manager.New(env.RESTConfig, manager.Options{
		Scheme:                 test.Scheme(),
		Logger:                 logr.Discard(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := readiness.NewController(mgr.GetClient()).Register(ctx, mgr); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})

	pool(t, "early", "late")
	status := func(typ string) metav1.ConditionStatus {
		var np v1.NodePool
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "early"}, &np); err != nil {
			t.Fatal(err)
		}
		if c := np.GetCondition(typ); c != nil {
			return c.Status
		}
		return ""
	}
	expectations.Eventually(t, 20*time.Second, "NodeClassReady=False for a missing class", func() bool {
		return status(v1.ConditionTypeNodeClassReady) == metav1.ConditionFalse
	})
	nodeClass(t, "late", true)
	expectations.Eventually(t, 20*time.Second, "Ready=True once the class is ready", func() bool {
		return status(v1.ConditionTypeReady) == metav1.ConditionTrue
	})
}
