package patch_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewright/nodewright/controller/utils/patch"
	"github.com/nodewright/nodewright/test/localcloud"
)

// A stale object is patched after another writer changed it: Locked reads
// it again and reapplies the change, and the other writer's list entry
// survives (an unlocked merge patch of the stale copy would drop it).
func TestLockedRetriesOnConflict(t *testing.T) {
	lc := localcloud.Start(t)
	ctx := context.Background()
	kube, err := client.New(lc.RESTConfig, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "locked", Namespace: "default", Finalizers: []string{"example.com/a"}}}
	if err := kube.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	stale := cm.DeepCopy()
	cm.Finalizers = append(cm.Finalizers, "example.com/other-writer")
	if err := kube.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	calls := 0
	err = patch.Locked(ctx, kube, stale, func(cm *corev1.ConfigMap) {
		calls++
		cm.Finalizers = append(cm.Finalizers, "example.com/ours")
	})
	if err != nil {
		t.Fatalf("Locked: %v", err)
	}
	var got corev1.ConfigMap
	if err := kube.Get(ctx, client.ObjectKeyFromObject(cm), &got); err != nil {
		t.Fatal(err)
	}
	want := []string{"example.com/a", "example.com/other-writer", "example.com/ours"}
	if len(got.Finalizers) != 3 || got.Finalizers[1] != want[1] || got.Finalizers[2] != want[2] {
		t.Fatalf("finalizers %v, want %v", got.Finalizers, want)
	}
	if calls != 2 {
		t.Errorf("mutate ran %d times, want 2 (stale, then re-read)", calls)
	}
	got.Finalizers = nil
	_ = kube.Update(ctx, &got)
}
