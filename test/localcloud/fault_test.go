package localcloud

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The not-ready fault turns a kwok node's Ready condition Unknown and
// keeps it so (kwok's heartbeat does not undo it); clearing it lets kwok
// make the node Ready again.
func TestNotReadyFault(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	c := Start(t)
	cs := kubernetes.NewForConfigOrDie(c.RESTConfig)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "faulty", Annotations: map[string]string{KwokNodeAnnotation: "fake"}}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ready := func(want corev1.ConditionStatus) func() (bool, error) {
		return func() (bool, error) {
			n, err := cs.CoreV1().Nodes().Get(ctx, "faulty", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady {
					return cond.Status == want, nil
				}
			}
			return false, nil
		}
	}
	poll(ctx, t, "node Ready", ready(corev1.ConditionTrue))
	if err := c.InjectNodeNotReady(ctx, "faulty", false); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "node Ready=Unknown", ready(corev1.ConditionUnknown))
	time.Sleep(3 * time.Second)
	if ok, err := ready(corev1.ConditionUnknown)(); err != nil || !ok {
		t.Fatalf("node no longer Unknown under the fault (%v)", err)
	}
	if err := c.InjectNodeNotReady(ctx, "faulty", true); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "node Ready again", ready(corev1.ConditionTrue))
}
