package localcloud

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// TestDeploymentRunsOnKwokNode is the foundation's acceptance test: pods that
// fit nowhere are Pending with a FailedScheduling event from the real
// scheduler, and run once a kwok node with room appears.
func TestDeploymentRunsOnKwokNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	c := Start(t)
	cs := kubernetes.NewForConfigOrDie(c.RESTConfig)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The ServiceAccount admission plugin rejects pods until the controller
	// manager has created the namespace's default service account.
	poll(ctx, t, "default service account", func() (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})

	labels := map[string]string{"app": "inflate"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "inflate", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:  "pause",
						Image: "registry.k8s.io/pause:3.10",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("1"),
						}},
					}},
					// kwok nodes carry no taints here, but a real kwok node may.
					Tolerations: []corev1.Toleration{{Key: KwokNodeAnnotation, Operator: corev1.TolerationOpExists}},
				},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating deployment: %v", err)
	}

	// 2. Every pod is Pending and the scheduler said why.
	poll(ctx, t, "3 pending pods, each with a FailedScheduling event", func() (bool, error) {
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=inflate"})
		if err != nil || len(pods.Items) != 3 {
			return false, err
		}
		events, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "reason=FailedScheduling"})
		if err != nil {
			return false, err
		}
		failed := map[string]bool{}
		for _, e := range events.Items {
			failed[e.InvolvedObject.Name] = true
		}
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodPending || !failed[p.Name] {
				return false, nil
			}
		}
		return true, nil
	})

	// 3. A 4-CPU kwok node arrives; all three pods run on it.
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "kwok-node-0",
			Annotations: map[string]string{KwokNodeAnnotation: "fake"},
			Labels:      map[string]string{"kubernetes.io/hostname": "kwok-node-0", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok"},
		},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("110")},
		},
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating node: %v", err)
	}
	poll(ctx, t, "node Ready without the not-ready taint", func() (bool, error) {
		n, err := cs.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, taint := range n.Spec.Taints {
			if taint.Key == corev1.TaintNodeNotReady {
				return false, nil
			}
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				return cond.Status == corev1.ConditionTrue, nil
			}
		}
		return false, nil
	})
	poll(ctx, t, "3 pods Running on kwok-node-0", func() (bool, error) {
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=inflate"})
		if err != nil {
			return false, err
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName == node.Name {
				running++
			}
		}
		return running == 3 && len(pods.Items) == 3, nil
	})
}

// TestStatusReportsCrashAndDownCleansUp crashes the scheduler of a real
// cluster: status names it with its log tail, and Down leaves no process.
func TestStatusReportsCrashAndDownCleansUp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	c, err := Up(context.Background(), Options{Dir: t.TempDir(), Detach: true, Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, name := range componentOrder {
		pids = append(pids, c.Process(name).PID)
	}
	t.Cleanup(func() {
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	sched := c.Process(Scheduler)
	if err := syscall.Kill(sched.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return !sched.Alive() })
	sts, err := Status(c.Dir())
	if err != nil {
		t.Fatal(err)
	}
	var report strings.Builder
	for _, s := range sts {
		fmt.Fprintf(&report, "%s running=%v crashed=%v\n", s.Name, s.Running, s.Crashed)
		if s.Name == Scheduler && (!s.Crashed || strings.TrimSpace(s.LogTail) == "") {
			t.Errorf("scheduler crash not reported with its log tail: %+v", s)
		}
		if s.Name != Scheduler && !s.Running {
			t.Errorf("%s reported down, but only the scheduler crashed", s.Name)
		}
	}
	t.Log(report.String())

	if err := Down(c.Dir()); err != nil {
		t.Fatalf("Down: %v", err)
	}
	for i, pid := range pids {
		if pidRunning(pid) {
			t.Errorf("%s (pid %d) still running after Down", componentOrder[i], pid)
		}
	}
}

func poll(ctx context.Context, t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	var lastErr error
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		ok, err := cond()
		lastErr = err
		return ok, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last error: %v)", what, err, lastErr)
	}
}
