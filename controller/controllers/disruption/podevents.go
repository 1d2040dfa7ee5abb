package disruption

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// podEvents remembers when a workload pod last arrived on or left each
// node, until a pass writes it to the node's NodeClaim as
// status.lastPodEventTime: the engine restarts consolidateAfter from it.
type podEvents struct {
	mu sync.Mutex
	at map[string]time.Time
}

// onPod notes a pod's arrival (bound), departure (deleted or finished).
// Daemonset pods come and go with their node and say nothing of its use.
func (c *Controller) onPod(old, pod *corev1.Pod) {
	if pod == nil || pod.Spec.NodeName == "" || daemon(pod) {
		return
	}
	if old != nil && old.Spec.NodeName == pod.Spec.NodeName && terminal(old) == terminal(pod) {
		return
	}
	c.podEvents.mu.Lock()
	defer c.podEvents.mu.Unlock()
	if c.podEvents.at == nil {
		c.podEvents.at = map[string]time.Time{}
	}
	c.podEvents.at[pod.Spec.NodeName] = c.clock.Now()
}

// podHandler feeds onPod and triggers a pass on pod arrivals and departures.
func (c *Controller) podHandler() toolscache.ResourceEventHandler {
	pod := func(o any) *corev1.Pod {
		if t, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
			o = t.Obj
		}
		p, _ := o.(*corev1.Pod)
		return p
	}
	return toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(o any, initial bool) {
			// The initial list is pods already there, not arrivals: a
			// restart must not restart every node's consolidateAfter.
			if !initial {
				c.onPod(nil, pod(o))
			}
			c.Trigger()
		},
		UpdateFunc: func(o, n any) {
			op, np := pod(o), pod(n)
			if op == nil || np == nil || op.Spec.NodeName != np.Spec.NodeName || terminal(op) != terminal(np) {
				c.onPod(op, np)
				c.Trigger()
			}
		},
		DeleteFunc: func(o any) {
			// Gone: as if it finished.
			if p := pod(o); p != nil {
				gone := p.DeepCopy()
				gone.Status.Phase = corev1.PodSucceeded
				c.onPod(p, gone)
			}
			c.Trigger()
		},
	}
}

// flushPodEvents writes the noted times to the nodes' NodeClaims.
func (c *Controller) flushPodEvents(ctx context.Context) error {
	c.podEvents.mu.Lock()
	at := c.podEvents.at
	c.podEvents.at = nil
	c.podEvents.mu.Unlock()
	if len(at) == 0 {
		return nil
	}
	var claims v1.NodeClaimList
	if err := c.kube.List(ctx, &claims); err != nil {
		return fmt.Errorf("listing nodeclaims: %w", err)
	}
	for i := range claims.Items {
		nc := &claims.Items[i]
		t, ok := at[nc.Status.NodeName]
		if !ok || nc.Status.NodeName == "" || !nc.Status.LastPodEventTime.Time.Before(t) {
			continue
		}
		patch := client.MergeFrom(nc.DeepCopy())
		nc.Status.LastPodEventTime = metav1.NewTime(t)
		if err := c.kube.Status().Patch(ctx, nc, patch); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("recording the last pod event of nodeclaim %s: %w", nc.Name, err)
		}
	}
	return nil
}

func daemon(pod *corev1.Pod) bool {
	o := metav1.GetControllerOf(pod)
	return o != nil && o.Kind == "DaemonSet"
}

func terminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}
