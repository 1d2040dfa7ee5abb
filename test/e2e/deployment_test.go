package e2e

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
)

// controllerNamespace and the names below are what modules/nodewright
// deploys by default.
const (
	controllerNamespace  = "nodewright"
	controllerDeployment = "nodewright"
	controllerPDB        = "nodewright"
	controllerMetricsSvc = "nodewright-metrics"
	nonRootID            = int64(65532)
)

// hardening is what assertHardenedController expects of the live objects.
type hardening struct {
	replicas    int32
	metricsPort int32 // 0: no metrics Service
}

// assertHardenedController checks that the live controller Deployment, its
// PodDisruptionBudget and its metrics Service carry every production
// setting nodewright_controller writes by default, and that the pods the
// Deployment made are all scheduled and ready.
func assertHardenedController(t *testing.T, cs kubernetes.Interface, want hardening) {
	t.Helper()
	ctx := context.Background()
	dep, err := cs.AppsV1().Deployments(controllerNamespace).Get(ctx, controllerDeployment, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("controller Deployment: %v", err)
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != want.replicas || dep.Status.ReadyReplicas != want.replicas {
		t.Errorf("Deployment has %d/%v replicas ready, want %d", dep.Status.ReadyReplicas, dep.Spec.Replicas, want.replicas)
	}
	if ru := dep.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable.IntValue() != 0 || ru.MaxSurge.IntValue() != 1 {
		t.Errorf("rolling update %+v, want maxUnavailable 0 and maxSurge 1", ru)
	}
	pod := dep.Spec.Template.Spec
	podLabels := labels.Set(dep.Spec.Template.Labels)

	// Security context: the restricted Pod Security Standard.
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || !is(psc.RunAsUser, nonRootID) || !is(psc.RunAsGroup, nonRootID) ||
		!is(psc.FSGroup, nonRootID) || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context %+v", psc)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	ctr := pod.Containers[0]
	csc := ctr.SecurityContext
	if csc == nil || !is(csc.ReadOnlyRootFilesystem, true) || !is(csc.AllowPrivilegeEscalation, false) || csc.Capabilities == nil ||
		len(csc.Capabilities.Drop) != 1 || csc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("container security context %+v", csc)
	}
	tmp := false
	for _, m := range ctr.VolumeMounts {
		tmp = tmp || m.MountPath == "/tmp"
	}
	if !tmp {
		t.Errorf("read-only root filesystem without a writable /tmp: mounts %+v", ctr.VolumeMounts)
	}

	// Spread: hosts hard, zones soft, over the controller's own pods.
	spread := map[string]corev1.UnsatisfiableConstraintAction{}
	for _, c := range pod.TopologySpreadConstraints {
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil || !sel.Matches(podLabels) || c.MaxSkew != 1 {
			t.Errorf("spread constraint %s: maxSkew %d, selector %v does not select the pods", c.TopologyKey, c.MaxSkew, c.LabelSelector)
		}
		spread[c.TopologyKey] = c.WhenUnsatisfiable
	}
	if spread[corev1.LabelHostname] != corev1.DoNotSchedule || spread[corev1.LabelTopologyZone] != corev1.ScheduleAnyway || len(spread) != 2 {
		t.Errorf("topology spread %v, want hostname DoNotSchedule and zone ScheduleAnyway", spread)
	}
	if pod.PriorityClassName != "system-cluster-critical" {
		t.Errorf("priority class %q", pod.PriorityClassName)
	}

	// Every replica scheduled (none Pending for want of a second node) and
	// ready.
	pods, err := cs.CoreV1().Pods(controllerNamespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(dep.Spec.Selector.MatchLabels).String()})
	if err != nil {
		t.Fatal(err)
	}
	ready := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		if p.Spec.NodeName == "" {
			t.Errorf("controller pod %s is not scheduled: %+v", p.Name, p.Status.Conditions)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	if ready != int(want.replicas) {
		t.Errorf("%d controller pods ready, want %d", ready, want.replicas)
	}

	// PodDisruptionBudget: one replica at a time, over the same pods.
	// The disruption controller counts the pods it covers shortly after.
	var pdb *policyv1.PodDisruptionBudget
	poll(t, "PodDisruptionBudget covering the controller pods", 30*time.Second, func() bool {
		pdb, err = cs.PolicyV1().PodDisruptionBudgets(controllerNamespace).Get(ctx, controllerPDB, metav1.GetOptions{})
		return err == nil && pdb.Status.ExpectedPods == want.replicas
	})
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || err != nil || !sel.Matches(podLabels) {
		t.Errorf("PodDisruptionBudget maxUnavailable %v selector %v", pdb.Spec.MaxUnavailable, pdb.Spec.Selector)
	}

	// Metrics Service: ClusterIP, port named metrics to the named container port.
	svc, err := cs.CoreV1().Services(controllerNamespace).Get(ctx, controllerMetricsSvc, metav1.GetOptions{})
	if want.metricsPort == 0 {
		if !apierrors.IsNotFound(err) {
			t.Errorf("metrics Service exists without a metrics port (err=%v)", err)
		}
		return
	}
	if err != nil {
		t.Errorf("metrics Service: %v", err)
		return
	}
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.ClusterIP == "" || len(svc.Spec.Ports) != 1 ||
		!labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
		t.Errorf("metrics Service %+v", svc.Spec)
		return
	}
	if p := svc.Spec.Ports[0]; p.Name != "metrics" || p.Port != want.metricsPort || p.TargetPort.String() != "metrics" {
		t.Errorf("metrics Service port %+v", p)
	}
	named := false
	for _, p := range ctr.Ports {
		named = named || (p.Name == "metrics" && p.ContainerPort == want.metricsPort)
	}
	if !named {
		t.Errorf("the container has no port named metrics on %d: %+v", want.metricsPort, ctr.Ports)
	}
}

func is[T comparable](p *T, v T) bool { return p != nil && *p == v }
