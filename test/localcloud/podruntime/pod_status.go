package podruntime

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// A pod's status as the worker reports it: phase, container states and
// conditions, written only when they change.

// statusSummary is what the worker decides; it is compared with what was
// last written so that unchanged status is not written again.
type statusSummary struct {
	Phase             corev1.PodPhase
	Ready             bool
	ContainerStatuses []corev1.ContainerStatus
	InitStatuses      []corev1.ContainerStatus
}

func (w *podWorker) summary(pod *corev1.Pod) *statusSummary {
	s := &statusSummary{Ready: true}
	allDone, allSucceeded, anyStarted := true, true, false
	for _, c := range w.containers {
		cs := corev1.ContainerStatus{
			Name: c.spec.Name, Image: c.spec.Image, ImageID: "localcloud://" + c.spec.Image,
			RestartCount: c.restarts, Started: ptr.To(c.running),
		}
		if c.image != nil {
			// As kubelet reports it: the pulled manifest, by digest.
			cs.ImageID = c.image.id
		}
		if c.last != nil {
			cs.LastTerminationState.Terminated = c.last
			anyStarted = true
		}
		switch {
		case c.running:
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: c.startedAt}
			cs.Ready = true
			anyStarted = true
			if c.proc != nil {
				cs.ContainerID = containerID(c.proc.pid)
			} else {
				cs.ContainerID = "localcloud://noop-" + c.spec.Name
			}
		case c.terminated != nil:
			cs.State.Terminated = c.terminated
			cs.ContainerID = c.terminated.ContainerID
			anyStarted = true
		case c.waiting != nil:
			cs.State.Waiting = c.waiting
		default:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		}
		if !c.done {
			allDone = false
		} else if c.terminated.ExitCode != 0 {
			allSucceeded = false
		}
		s.Ready = s.Ready && cs.Ready
		s.ContainerStatuses = append(s.ContainerStatuses, cs)
	}
	// Init containers are not run: they are reported as having completed.
	for _, ic := range pod.Spec.InitContainers {
		s.InitStatuses = append(s.InitStatuses, corev1.ContainerStatus{
			Name: ic.Name, Image: ic.Image, ImageID: "localcloud://" + ic.Image, Ready: true,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 0, Reason: "Completed", StartedAt: w.startTime, FinishedAt: w.startTime,
				ContainerID: "localcloud://noop-" + ic.Name,
			}},
		})
	}
	switch {
	case allDone && allSucceeded:
		s.Phase = corev1.PodSucceeded
	case allDone:
		s.Phase = corev1.PodFailed
	case anyStarted:
		s.Phase = corev1.PodRunning
	default:
		s.Phase = corev1.PodPending
	}
	return s
}

func (w *podWorker) syncStatus(ctx context.Context, pod *corev1.Pod) error {
	want := w.summary(pod)
	if w.written != nil && equality.Semantic.DeepEqual(want, w.written) {
		return nil
	}
	first := true
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !first {
			fresh, err := w.r.client.CoreV1().Pods(w.ns).Get(ctx, w.name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			pod = fresh
		}
		first = false
		if pod.UID != w.uid {
			return errors.New("pod was replaced")
		}
		upd := pod.DeepCopy()
		w.applyStatus(&upd.Status, want)
		_, err := w.r.client.CoreV1().Pods(w.ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return err
	}
	w.written = want
	return nil
}

func (w *podWorker) applyStatus(st *corev1.PodStatus, s *statusSummary) {
	st.Phase = s.Phase
	st.HostIP, st.PodIP = podIP, podIP
	st.HostIPs = []corev1.HostIP{{IP: podIP}}
	st.PodIPs = []corev1.PodIP{{IP: podIP}}
	if st.StartTime == nil {
		st.StartTime = ptr.To(w.startTime)
	}
	st.ContainerStatuses = s.ContainerStatuses
	st.InitContainerStatuses = s.InitStatuses
	ready, reason := corev1.ConditionTrue, ""
	if !s.Ready {
		ready, reason = corev1.ConditionFalse, "ContainersNotReady"
		if s.Phase == corev1.PodSucceeded || s.Phase == corev1.PodFailed {
			reason = "PodCompleted"
		}
	}
	setCondition(st, corev1.PodScheduled, corev1.ConditionTrue, "")
	setCondition(st, corev1.PodInitialized, corev1.ConditionTrue, "")
	setCondition(st, corev1.ContainersReady, ready, reason)
	setCondition(st, corev1.PodReady, ready, reason)
}

func setCondition(st *corev1.PodStatus, t corev1.PodConditionType, status corev1.ConditionStatus, reason string) {
	now := metav1.Now()
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type != t {
			continue
		}
		if c.Status != status {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.Message = status, reason, ""
		return
	}
	st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: status, Reason: reason, LastTransitionTime: now})
}
