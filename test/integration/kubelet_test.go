package integration

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// setKubelet replaces the default node class's kubelet settings.
func (e *env) setKubelet(ctx context.Context, k *v1.KubeletConfiguration) *v1.EC2NodeClass {
	e.t.Helper()
	var nc v1.EC2NodeClass
	if err := e.kube.Get(ctx, client.ObjectKey{Name: "default"}, &nc); err != nil {
		e.t.Fatal(err)
	}
	patch := client.MergeFrom(nc.DeepCopy())
	nc.Spec.Kubelet = k
	if err := e.kube.Patch(ctx, &nc, patch); err != nil {
		e.t.Fatal(err)
	}
	return &nc
}

// nodeAgrees checks that the claim's Node reports the capacity and
// allocatable the claim planned, and those figures.
func (e *env) nodeAgrees(ctx context.Context, nc v1.NodeClaim, pods int64, cpu, memory string) {
	e.t.Helper()
	var node corev1.Node
	if err := e.kube.Get(ctx, client.ObjectKey{Name: nc.Status.NodeName}, &node); err != nil {
		e.t.Fatalf("node of %s: %v", nc.Name, err)
	}
	for _, name := range []corev1.ResourceName{corev1.ResourcePods, corev1.ResourceCPU, corev1.ResourceMemory} {
		if got, want := node.Status.Allocatable[name], nc.Status.Allocatable[name]; !equality.Semantic.DeepEqual(got, want) {
			e.t.Errorf("node %s allocatable %s %s, its claim planned %s", node.Name, name, got.String(), want.String())
		}
		if got, want := node.Status.Capacity[name], nc.Status.Capacity[name]; !equality.Semantic.DeepEqual(got, want) {
			e.t.Errorf("node %s capacity %s %s, its claim planned %s", node.Name, name, got.String(), want.String())
		}
	}
	if got := node.Status.Capacity[corev1.ResourcePods]; got.Value() != pods {
		e.t.Errorf("node %s capacity pods %s, want maxPods %d", node.Name, got.String(), pods)
	}
	for name, want := range map[corev1.ResourceName]string{corev1.ResourceCPU: cpu, corev1.ResourceMemory: memory} {
		if got := node.Status.Allocatable[name]; got.Cmp(resource.MustParse(want)) != 0 {
			e.t.Errorf("node %s allocatable %s %s, want %s", node.Name, name, got.String(), want)
		}
	}
}

// TestKubeletSettingsReachTheNode: a node class's maxPods and systemReserved
// reach the node through userData, and the Node reports the capacity and
// allocatable its claim planned; changing them drifts the node, and the
// replacement reports the new figures.
func TestKubeletSettingsReachTheNode(t *testing.T) {
	e := newEnv(t, disruptionPool("WhenEmpty", "720h", onlyM5Large, ""))
	ctx := context.Background()
	nodeClass := e.setKubelet(ctx, &v1.KubeletConfiguration{MaxPods: ptr.To[int32](12),
		SystemReserved: map[string]string{"cpu": "300m", "memory": "600Mi"}})
	if err := e.kube.Create(ctx, inflate("inflate", 2, "500m", "1Gi")); err != nil {
		t.Fatal(err)
	}
	e.waitReady("inflate", 2, 45*time.Second)
	claims := e.settledClaims(-1)
	originals := map[string]bool{}
	for _, nc := range claims {
		originals[nc.Name] = true
		if got := nc.Annotations[v1.EC2NodeClassHashAnnotationKey]; got != nodeClass.Hash() {
			t.Fatalf("nodeclaim %s launched with node class hash %s, want %s: the controller missed the kubelet settings", nc.Name, got, nodeClass.Hash())
		}
		// m5.large: 2 cores less kube-reserved 70m and system-reserved
		// 300m; 7577Mi less kube-reserved 11*12+255 = 387Mi, the 100Mi
		// eviction threshold and system-reserved 600Mi.
		e.nodeAgrees(ctx, nc, 12, "1630m", "6490Mi")
	}

	var mu sync.Mutex
	drifted := map[string]string{}
	seen := watch(100*time.Millisecond, func(ctx context.Context) string {
		claims, err := e.liveClaims(ctx)
		if err != nil {
			return ""
		}
		mu.Lock()
		defer mu.Unlock()
		for _, nc := range claims {
			if c := meta.FindStatusCondition(nc.Status.Conditions, v1.ConditionTypeDrifted); c != nil && c.Status == metav1.ConditionTrue {
				drifted[nc.Name] = c.Reason
			}
		}
		return ""
	})
	e.setKubelet(ctx, &v1.KubeletConfiguration{MaxPods: ptr.To[int32](20),
		SystemReserved: map[string]string{"cpu": "500m", "memory": "1Gi"}})
	var replacements []v1.NodeClaim
	e.eventually("every node replaced under the new kubelet settings", 90*time.Second, func(ctx context.Context) (bool, error) {
		claims, err := e.liveClaims(ctx)
		if err != nil || len(claims) == 0 {
			return false, err
		}
		for _, nc := range claims {
			if originals[nc.Name] || !nc.IsTrue(v1.ConditionTypeInitialized) {
				return false, nil
			}
		}
		running, total := e.runningPods(ctx, "inflate")
		replacements = claims
		return running == 2 && total == 2, nil
	}, time.Second)
	seen.finish(t, "drift")
	mu.Lock()
	for name := range originals {
		if reason := drifted[name]; reason != "NodeClassDrifted" {
			t.Errorf("nodeclaim %s replaced with Drifted reason %q, want NodeClassDrifted", name, reason)
		}
	}
	mu.Unlock()
	for _, nc := range replacements {
		// 2000m - 70m - 500m; 7577Mi - (11*20+255 = 475Mi) - 100Mi - 1024Mi.
		e.nodeAgrees(ctx, nc, 20, "1430m", "5978Mi")
	}
	if t.Failed() {
		t.Log(describeClaims(replacements))
	}
}

// TestEphemeralStorageFollowsTheRootVolume: a node class with a 100 GiB
// root volume gives its nodes 100 GiB of ephemeral storage, so a pod asking
// for 60 GiB (more than the default 20 GiB root volume holds) gets a node,
// and the Node reports what its claim planned.
func TestEphemeralStorageFollowsTheRootVolume(t *testing.T) {
	e := newEnv(t, disruptionPool("WhenEmpty", "720h", onlyM5Large, ""))
	ctx := context.Background()
	var nc v1.EC2NodeClass
	if err := e.kube.Get(ctx, client.ObjectKey{Name: "default"}, &nc); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(nc.DeepCopy())
	size := resource.MustParse("100Gi")
	nc.Spec.BlockDeviceMappings = []v1.BlockDeviceMapping{{DeviceName: ptr.To("/dev/xvda"), EBS: &v1.BlockDevice{VolumeSize: &size}}}
	if err := e.kube.Patch(ctx, &nc, patch); err != nil {
		t.Fatal(err)
	}
	d := inflate("scratch", 1, "500m", "1Gi")
	d.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceEphemeralStorage] = resource.MustParse("60Gi")
	if err := e.kube.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	e.waitReady("scratch", 1, 45*time.Second)
	for _, claim := range e.settledClaims(-1) {
		var node corev1.Node
		if err := e.kube.Get(ctx, client.ObjectKey{Name: claim.Status.NodeName}, &node); err != nil {
			t.Fatal(err)
		}
		got, want := node.Status.Capacity[corev1.ResourceEphemeralStorage], claim.Status.Capacity[corev1.ResourceEphemeralStorage]
		if got.Cmp(size) != 0 || want.Cmp(size) != 0 {
			t.Errorf("node %s ephemeral-storage capacity %s, its claim planned %s; want %s", node.Name, got.String(), want.String(), size.String())
		}
	}
}
