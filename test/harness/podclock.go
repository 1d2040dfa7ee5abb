package harness

import (
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// PodClock records, per pod, when this process's watch first saw it and
// first saw it Running and Ready. A watch event arrives within milliseconds
// on loopback, where the pod's own timestamps have whole seconds.
type PodClock struct {
	mu    sync.Mutex // guards seen
	seen  map[types.UID]*podTimes
	label string
}

type podTimes struct {
	workload                   string
	created, running           time.Time // this process's clock, at the watch events
	serverCreated, serverReady time.Time // creationTimestamp and the Ready condition's lastTransitionTime
	gone                       bool      // deleted
}

// WatchPods starts an informer on the namespace's pods that carry the
// label key, each pod's workload being that label's value; it stops when
// the test ends.
func WatchPods(t testing.TB, kube kubernetes.Interface, namespace, label string) *PodClock {
	c := &PodClock{seen: map[types.UID]*podTimes{}, label: label}
	f := informers.NewSharedInformerFactoryWithOptions(kube, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = label }))
	inf := f.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.observe,
		UpdateFunc: func(_, obj any) { c.observe(obj) },
		DeleteFunc: c.forget,
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	f.Start(stop)
	t.Cleanup(func() { close(stop); f.Shutdown() })
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		t.Fatal("the pod watch did not sync")
	}
	return c
}

func (c *PodClock) observe(obj any) {
	now := time.Now()
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	pt := c.seen[p.UID]
	if pt == nil {
		pt = &podTimes{workload: p.Labels[c.label], created: now, serverCreated: p.CreationTimestamp.Time}
		c.seen[p.UID] = pt
	}
	if pt.running.IsZero() && p.Status.Phase == corev1.PodRunning && PodReady(p) {
		pt.running = now
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady {
				pt.serverReady = cond.LastTransitionTime.Time
			}
		}
	}
}

// forget marks a deleted pod gone; its times stay.
func (c *PodClock) forget(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if pt := c.seen[p.UID]; pt != nil {
		pt.gone = true
	}
}

// Running counts the workload's pods that are Running now: those seen
// Running and not deleted since. A pod that consolidation moves meanwhile
// counts once its replacement runs.
func (c *PodClock) Running(workload string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, pt := range c.seen {
		if pt.workload == workload && !pt.running.IsZero() && !pt.gone {
			n++
		}
	}
	return n
}

// Latencies are the workload's pods' pending-to-Running times, sorted: by
// the watch, and by the pods' own timestamps.
func (c *PodClock) Latencies(workload string) (watched, server []time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, pt := range c.seen {
		if pt.workload != workload || pt.running.IsZero() {
			continue
		}
		watched = append(watched, pt.running.Sub(pt.created))
		server = append(server, pt.serverReady.Sub(pt.serverCreated))
	}
	slices.Sort(watched)
	slices.Sort(server)
	return watched, server
}

// Created is when the watch first saw the workload's n-th pod, counting
// in order of creation and deleted pods too: a Deployment's pods appear
// over seconds, as its ReplicaSet makes them, and pods made later to
// replace moved ones are not the step's. Zero if fewer were seen.
func (c *PodClock) Created(workload string, n int) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var times []time.Time
	for _, pt := range c.seen {
		if pt.workload == workload {
			times = append(times, pt.created)
		}
	}
	if n < 1 || len(times) < n {
		return time.Time{}
	}
	slices.SortFunc(times, time.Time.Compare)
	return times[n-1]
}

// RunningAfter are, sorted, the times from t0 to Running of the pods the
// watch first saw after t0 (replacements, say, for pods displaced at t0),
// and how many such pods are not Running yet.
func (c *PodClock) RunningAfter(t0 time.Time) (times []time.Duration, notYet int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, pt := range c.seen {
		if pt.created.Before(t0) {
			continue
		}
		if pt.running.IsZero() {
			notYet++
			continue
		}
		times = append(times, pt.running.Sub(t0))
	}
	slices.Sort(times)
	return times, notYet
}

// PodReady reports whether the pod's Ready condition is true.
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Percentile is the nearest-rank percentile of sorted durations.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
