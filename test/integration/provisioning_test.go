package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/test/harness"
	"github.com/nodewright/nodewright/test/kubetest"
)

func inflate(name string, replicas int32, cpu, memory string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](0),
					Containers: []corev1.Container{{Name: "pause", Image: "registry.k8s.io/pause:3.10",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}}}},
				},
			},
		},
	}
}

func (e *env) scale(name string, replicas int32) {
	e.t.Helper()
	ctx := context.Background()
	// The deployment controller writes the Deployment's status.
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
	if err := kubetest.Update(ctx, e.kube, d, func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To(replicas) }); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) runningPods(ctx context.Context, app string) (running, total int) {
	var pods corev1.PodList
	if err := e.kube.List(ctx, &pods, client.InNamespace("default"), client.MatchingLabels{"app": app}); err != nil {
		e.t.Fatal(err)
	}
	for i := range pods.Items {
		if pods.Items[i].Status.Phase == corev1.PodRunning && podReady(&pods.Items[i]) {
			running++
		}
	}
	return running, len(pods.Items)
}

// TestProvisioningLifecycle walks the acceptance list on one local
// cloud with the controller as a real process.
func TestProvisioningLifecycle(t *testing.T) {
	e := newEnv(t, defaultNodePool)
	ctx := context.Background()

	// 1. The node class resolves: subnets, security groups and AMIs in status.
	e.eventually("EC2NodeClass Ready", 30*time.Second, func(ctx context.Context) (bool, error) {
		var nc v1.EC2NodeClass
		if err := e.kube.Get(ctx, client.ObjectKey{Name: "default"}, &nc); err != nil {
			return false, err
		}
		return meta.IsStatusConditionTrue(nc.Status.Conditions, "Ready") && len(nc.Status.Subnets) == 3 &&
			len(nc.Status.SecurityGroups) == 1 && len(nc.Status.AMIs) >= 2 && nc.Status.InstanceProfile != "", nil
	})

	// 2. Ten pods of 1 CPU and 1.5Gi run on nodewright's nodes within 20 s.
	if err := e.kube.Create(ctx, inflate("inflate", 0, "1", "1.5Gi")); err != nil {
		t.Fatal(err)
	}
	if err := e.cloud.ResetCalls(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e.scale("inflate", 10)
	e.eventually("10 inflate pods Running", 20*time.Second, func(ctx context.Context) (bool, error) {
		running, _ := e.runningPods(ctx, "inflate")
		return running == 10, nil
	})
	t.Logf("10 pods Running %s after scaling up", time.Since(start).Round(100*time.Millisecond))
	t.Logf("AWS calls during the scale-up: %s", e.calls(ctx))
	e.eventually("NodeClaims Ready", 20*time.Second, func(ctx context.Context) (bool, error) {
		claims := e.nodeClaims(ctx)
		for _, nc := range claims {
			if !meta.IsStatusConditionTrue(nc.Status.Conditions, "Ready") {
				return false, nil
			}
		}
		return len(claims) > 0, nil
	})
	for _, nc := range e.nodeClaims(ctx) {
		typ := nc.Labels[corev1.LabelInstanceTypeStable]
		allowed := false
		for _, r := range nc.Spec.Requirements {
			if r.Key == corev1.LabelInstanceTypeStable {
				for _, v := range r.Values {
					allowed = allowed || v == typ
				}
			}
		}
		if !allowed || nc.Labels[v1.CapacityTypeLabelKey] != v1.CapacityTypeSpot {
			t.Errorf("nodeclaim %s launched %s (%s), not one of its planned spot options", nc.Name, typ, nc.Labels[v1.CapacityTypeLabelKey])
		}
	}
	launched := e.ctrl.Entries("launched instance")
	if len(launched) == 0 {
		t.Errorf("no \"launched instance\" log line:\n%s", e.ctrl.Tail(30))
	}

	// 3. Scale to zero: empty nodes go after consolidateAfter (30 s), within 45 s.
	instances := len(e.nodeClaims(ctx))
	if err := e.cloud.ResetCalls(ctx); err != nil {
		t.Fatal(err)
	}
	e.scale("inflate", 0)
	start = time.Now()
	e.eventually("nodes removed", 45*time.Second, func(ctx context.Context) (bool, error) {
		var nodes corev1.NodeList
		if err := e.kube.List(ctx, &nodes, client.HasLabels{v1.NodePoolLabelKey}); err != nil {
			return false, err
		}
		return len(nodes.Items) == 0 && len(e.nodeClaims(ctx)) == 0, nil
	})
	t.Logf("empty nodes removed %s after scaling down", time.Since(start).Round(100*time.Millisecond))
	e.eventually("instances terminated", 15*time.Second, func(ctx context.Context) (bool, error) {
		return len(e.liveInstances(ctx)) == 0, nil
	})
	// Each instance is terminated once: the Node's termination and the
	// claim's finalizer must not both call TerminateInstances.
	calls := e.calls(ctx)
	t.Logf("AWS calls during the scale to zero: %s", calls)
	if got, _ := e.cloud.Calls(ctx); got["ec2:TerminateInstances"] != instances {
		t.Errorf("%d TerminateInstances calls for %d instances", got["ec2:TerminateInstances"], instances)
	}

	// 7. Pods no instance type can hold: an event with the reason, nothing launched.
	if err := e.kube.Create(ctx, inflate("huge", 1, "1000", "1Gi")); err != nil {
		t.Fatal(err)
	}
	e.eventually("an event saying why the huge pod can't be placed", 30*time.Second, func(ctx context.Context) (bool, error) {
		var events corev1.EventList
		if err := e.kube.List(ctx, &events, client.InNamespace("default")); err != nil {
			return false, err
		}
		for _, ev := range events.Items {
			if strings.HasPrefix(ev.InvolvedObject.Name, "huge-") && strings.Contains(ev.Message, "no instance type satisfies") {
				return true, nil
			}
		}
		return false, nil
	})
	if n := len(e.nodeClaims(ctx)); n != 0 {
		t.Errorf("%d NodeClaims created for an impossible pod", n)
	}
	if err := e.kube.Delete(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "huge", Namespace: "default"}}); err != nil {
		t.Fatal(err)
	}

	// 6. A PDB with minAvailable = replicas blocks the drain until relaxed.
	if err := e.kube.Create(ctx, inflate("guarded", 2, "500m", "256Mi")); err != nil {
		t.Fatal(err)
	}
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "guarded", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(2)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "guarded"}}}}
	if err := e.kube.Create(ctx, pdb); err != nil {
		t.Fatal(err)
	}
	e.eventually("guarded pods Running", 30*time.Second, func(ctx context.Context) (bool, error) {
		running, _ := e.runningPods(ctx, "guarded")
		return running == 2, nil
	})
	claims := e.nodeClaims(ctx)
	if len(claims) == 0 {
		t.Fatal("no NodeClaim for the guarded pods")
	}
	victim := claims[0]
	if err := e.kube.Delete(ctx, &victim); err != nil {
		t.Fatal(err)
	}
	time.Sleep(8 * time.Second)
	var node corev1.Node
	if err := e.kube.Get(ctx, client.ObjectKey{Name: victim.Status.NodeName}, &node); err != nil {
		t.Fatalf("node %s went although the PDB forbids evicting its pods: %v", victim.Status.NodeName, err)
	}
	// kube-controller-manager writes the budget's status.
	if err := kubetest.Update(ctx, e.kube, pdb, func(pdb *policyv1.PodDisruptionBudget) { pdb.Spec.MinAvailable = ptr.To(intstr.FromInt32(0)) }); err != nil {
		t.Fatal(err)
	}
	e.eventually("drained node gone once the PDB is relaxed", 60*time.Second, func(ctx context.Context) (bool, error) {
		err := e.kube.Get(ctx, client.ObjectKey{Name: victim.Status.NodeName}, &corev1.Node{})
		return apierrors.IsNotFound(err), nil
	})
	if err := e.kube.Delete(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "guarded", Namespace: "default"}}); err != nil {
		t.Fatal(err)
	}
	e.eventually("guarded capacity removed", 60*time.Second, func(ctx context.Context) (bool, error) {
		return len(e.nodeClaims(ctx)) == 0 && len(e.liveInstances(ctx)) == 0, nil
	})

	// Nothing leaks: deleting the NodePool and EC2NodeClass removes the
	// launch templates and the instance profile nodewright made.
	var nc v1.EC2NodeClass
	if err := e.kube.Get(ctx, client.ObjectKey{Name: "default"}, &nc); err != nil {
		t.Fatal(err)
	}
	profile := nc.Status.InstanceProfile
	for _, obj := range []client.Object{&v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, &nc} {
		if err := e.kube.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	e.eventually("EC2NodeClass gone", 30*time.Second, func(ctx context.Context) (bool, error) {
		return apierrors.IsNotFound(e.kube.Get(ctx, client.ObjectKey{Name: "default"}, &v1.EC2NodeClass{})), nil
	})
	lts, err := e.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lts.LaunchTemplates) != 0 {
		t.Errorf("%d launch templates left after the EC2NodeClass was deleted", len(lts.LaunchTemplates))
	}
	if _, err := iam.NewFromConfig(e.cloud.AWSConfig()).GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(profile)}); err == nil {
		t.Errorf("instance profile %s left after the EC2NodeClass was deleted", profile)
	}
}

// TestInsufficientCapacityFallsBack marks the cheapest pool out of capacity:
// the launch goes to the next pool, and the log and events say why.
func TestInsufficientCapacityFallsBack(t *testing.T) {
	e := newEnv(t, defaultNodePool)
	ctx := context.Background()

	// Learn the cheapest pool for one pod by launching it once.
	if err := e.kube.Create(ctx, inflate("probe", 1, "1", "1.5Gi")); err != nil {
		t.Fatal(err)
	}
	var first v1.NodeClaim
	e.eventually("first NodeClaim launched", 30*time.Second, func(ctx context.Context) (bool, error) {
		for _, nc := range e.nodeClaims(ctx) {
			if nc.Status.ProviderID != "" {
				first = nc
				return true, nil
			}
		}
		return false, nil
	})
	typ, zone := first.Labels[corev1.LabelInstanceTypeStable], first.Labels[corev1.LabelTopologyZone]
	if err := e.cloud.InjectCapacity(ctx, typ, zone, v1.CapacityTypeSpot, false); err != nil {
		t.Fatal(err)
	}
	e.scale("probe", 2)
	e.eventually("a second NodeClaim launched elsewhere", 30*time.Second, func(ctx context.Context) (bool, error) {
		for _, nc := range e.nodeClaims(ctx) {
			if nc.Name != first.Name && nc.Status.ProviderID != "" {
				if nc.Labels[corev1.LabelInstanceTypeStable] == typ && nc.Labels[corev1.LabelTopologyZone] == zone && nc.Labels[v1.CapacityTypeLabelKey] == v1.CapacityTypeSpot {
					return false, fmt.Errorf("launched into the pool marked out of capacity")
				}
				return true, nil
			}
		}
		return false, nil
	})
	if !strings.Contains(e.ctrl.Tail(400), "InsufficientInstanceCapacity") {
		t.Errorf("the controller log does not say the pool was out of capacity:\n%s", e.ctrl.Tail(40))
	}
}

// TestRestartMidLaunchLeavesNoDuplicate kills the controller while it
// launches: after a restart, instances and NodeClaims match one to one.
func TestRestartMidLaunchLeavesNoDuplicate(t *testing.T) {
	e := newEnv(t, defaultNodePool)
	ctx := context.Background()
	if err := e.kube.Create(ctx, inflate("burst", 6, "1", "1Gi")); err != nil {
		t.Fatal(err)
	}
	e.eventually("a NodeClaim exists", 30*time.Second, func(ctx context.Context) (bool, error) {
		return len(e.nodeClaims(ctx)) > 0, nil
	})
	e.ctrl.Stop(9) // SIGKILL: no chance to finish anything
	e.ctrl = harness.StartController(t, e.cloud)
	e.eventually("burst pods Running after the restart", 60*time.Second, func(ctx context.Context) (bool, error) {
		running, _ := e.runningPods(ctx, "burst")
		return running == 6, nil
	})
	e.eventually("one instance per NodeClaim", 90*time.Second, func(ctx context.Context) (bool, error) {
		claims := e.nodeClaims(ctx)
		live := e.liveInstances(ctx)
		ids := map[string]bool{}
		for _, nc := range claims {
			ids[nc.Status.ProviderID[strings.LastIndex(nc.Status.ProviderID, "/")+1:]] = true
		}
		var orphans []string
		for _, in := range live {
			if !ids[*in.InstanceId] {
				orphans = append(orphans, *in.InstanceId)
			}
		}
		sort.Strings(orphans)
		if len(orphans) > 0 {
			return false, fmt.Errorf("instances without a NodeClaim: %v", orphans)
		}
		return len(live) == len(claims), nil
	})
}
