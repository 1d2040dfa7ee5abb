package podruntime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

const (
	podIP          = "127.0.0.1"
	initialBackoff = time.Second
	maxBackoff     = 30 * time.Second
	maxGrace       = 30 * time.Second
	// A container that ran this long before exiting starts its backoff afresh.
	backoffReset = 2 * maxBackoff
)

// proc is one run of a container's entrypoint.
type proc struct {
	cmd     *exec.Cmd
	pid     int
	started time.Time
	// done is closed once the process is reaped; code is then valid.
	done chan struct{}
	code int32
}

type exitEvent struct {
	c *container
	p *proc
}

// container is the runtime's view of one container of a pod.
type container struct {
	spec corev1.Container
	// image is the unpacked image once pulled; stub marks a container
	// whose image the local registry does not mirror: a no-op, reported
	// running.
	image *pulledImage
	stub  bool
	// backOffAt is when a failed pull's ErrImagePull turns into
	// ImagePullBackOff, as kubelet reports while it waits to retry.
	backOffAt time.Time

	proc      *proc
	running   bool
	startedAt metav1.Time
	restarts  int32
	// state is reported while not running: waiting (backoff, config error)
	// or terminated for good.
	waiting    *corev1.ContainerStateWaiting
	terminated *corev1.ContainerStateTerminated
	last       *corev1.ContainerStateTerminated
	done       bool
	backoff    time.Duration
	nextStart  time.Time
	lastFailed string
}

// podWorker owns one pod's processes and status, from adoption until the
// pod is gone (or the runtime stops).
type podWorker struct {
	r        *Runtime
	uid      types.UID
	ns, name string
	dir      string

	mu     sync.Mutex
	pod    *corev1.Pod
	gone   bool
	notify chan struct{}

	exits        chan exitEvent
	containers   []*container
	tokenRefresh time.Time
	// identity is the pod's AWS identity, once looked up.
	identity      *AWSIdentity
	identityKnown bool
	written       *statusSummary
	startTime     metav1.Time
}

func newPodWorker(r *Runtime, pod *corev1.Pod) *podWorker {
	return &podWorker{
		r: r, uid: pod.UID, ns: pod.Namespace, name: pod.Name, pod: pod.DeepCopy(),
		// The uid keeps a same-named successor (a StatefulSet's) from
		// sharing files with a predecessor still being cleaned up.
		dir:    filepath.Join(r.cfg.StateDir, "pods", pod.Namespace+"_"+pod.Name+"_"+string(pod.UID)),
		notify: make(chan struct{}, 1),
		exits:  make(chan exitEvent, len(pod.Spec.Containers)),
	}
}

// update passes the latest version of the pod, or its disappearance.
func (w *podWorker) update(pod *corev1.Pod, gone bool) {
	w.mu.Lock()
	if !gone && w.pod != nil && pod.ResourceVersion == w.pod.ResourceVersion {
		// The poll hands over every pod each time; only changes matter.
		w.mu.Unlock()
		return
	}
	if pod != nil {
		w.pod = pod.DeepCopy()
	}
	w.gone = w.gone || gone
	w.mu.Unlock()
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *podWorker) latest() (*corev1.Pod, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod, w.gone
}

func (w *podWorker) key() string { return w.ns + "/" + w.name }

func (w *podWorker) run(ctx context.Context) {
	pod, _ := w.latest()
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		w.r.log.Error("creating pod directory", "pod", w.key(), "err", err)
	}
	w.adopt(pod)
	for {
		pod, gone := w.latest()
		if gone {
			w.stopAll(grace(pod))
			_ = os.RemoveAll(w.dir)
			return
		}
		if pod.DeletionTimestamp != nil {
			w.r.event(ctx, pod, "", corev1.EventTypeNormal, "Killing", "Stopping pod")
			w.stopAll(grace(pod))
			w.deletePod(ctx, pod)
			return
		}
		now := time.Now()
		if !w.tokenRefresh.IsZero() && !now.Before(w.tokenRefresh) {
			if err := w.refreshToken(ctx, pod); err != nil {
				w.r.log.Warn("refreshing token", "pod", w.key(), "err", err)
				w.tokenRefresh = now.Add(10 * time.Second)
			}
		}
		for _, c := range w.containers {
			if !c.backOffAt.IsZero() && !now.Before(c.backOffAt) {
				w.pullBackOff(ctx, pod, c)
			}
			if !c.running && !c.done && !c.nextStart.IsZero() && !now.Before(c.nextStart) {
				w.start(ctx, pod, c)
			}
		}
		retryStatus := false
		if err := w.syncStatus(ctx, pod); apierrors.IsNotFound(err) {
			// Deleted outright: the next list would say so too.
			w.update(nil, true)
		} else if err != nil {
			if ctx.Err() == nil {
				w.r.log.Warn("updating pod status", "pod", w.key(), "err", err)
			}
			retryStatus = true
		}

		wake := w.tokenRefresh
		for _, c := range w.containers {
			if !c.running && !c.done && !c.nextStart.IsZero() && (wake.IsZero() || c.nextStart.Before(wake)) {
				wake = c.nextStart
			}
			if !c.backOffAt.IsZero() && (wake.IsZero() || c.backOffAt.Before(wake)) {
				wake = c.backOffAt
			}
		}
		if retryStatus && (wake.IsZero() || time.Until(wake) > time.Second) {
			wake = time.Now().Add(time.Second)
		}
		var timer <-chan time.Time
		var t *time.Timer
		if !wake.IsZero() {
			t = time.NewTimer(max(time.Until(wake), 0))
			timer = t.C
		}
		select {
		case <-ctx.Done():
			p, _ := w.latest()
			w.stopAll(grace(p))
			return
		case <-w.notify:
		case ev := <-w.exits:
			w.exited(ctx, pod, ev)
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// adopt builds the containers, carrying restart counts over from a status
// an earlier run of the runtime wrote.
func (w *podWorker) adopt(pod *corev1.Pod) {
	prev := map[string]corev1.ContainerStatus{}
	for _, cs := range pod.Status.ContainerStatuses {
		prev[cs.Name] = cs
	}
	now := time.Now()
	for _, spec := range pod.Spec.Containers {
		c := &container{spec: spec, stub: w.r.images == nil, backoff: initialBackoff, nextStart: now}
		if cs, ok := prev[spec.Name]; ok {
			c.restarts = cs.RestartCount
			c.last = cs.LastTerminationState.Terminated
		}
		w.containers = append(w.containers, c)
	}
	if pod.Status.StartTime != nil {
		w.startTime = *pod.Status.StartTime
	} else {
		w.startTime = metav1.NewTime(now)
	}
}

// start pulls a container's image and runs its entrypoint, or marks a
// no-op container running. Failures before the process exists leave the
// container waiting and retry with backoff, so a Secret created or an
// image pushed later is picked up.
func (w *podWorker) start(ctx context.Context, pod *corev1.Pod, c *container) {
	c.nextStart = time.Time{}
	if c.image == nil && !c.stub {
		if !w.pull(ctx, pod, c) {
			return
		}
	}
	if c.stub {
		c.running, c.waiting, c.startedAt = true, nil, metav1.Now()
		return
	}
	if err := c.image.checkNonRoot(pod, &c.spec); err != nil {
		w.failStart(ctx, pod, c, "CreateContainerConfigError", err.Error())
		return
	}
	argv, err := c.image.command(&c.spec)
	if err != nil {
		w.failStart(ctx, pod, c, "CreateContainerError", err.Error())
		return
	}
	if w.tokenRefresh.IsZero() {
		if err := w.refreshToken(ctx, pod); err != nil {
			w.failStart(ctx, pod, c, "CreateContainerConfigError", err.Error())
			return
		}
	}
	env, err := w.containerEnv(ctx, pod, &c.spec, c.image.config.Env, w.kubeconfigPath())
	if err != nil {
		w.failStart(ctx, pod, c, "CreateContainerConfigError", err.Error())
		return
	}
	for i := range argv[1:] {
		argv[i+1] = expand(argv[i+1], env.values)
	}
	logPath := filepath.Join(w.r.cfg.StateDir, "pods", w.ns+"_"+w.name+"_"+c.spec.Name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		w.failStart(ctx, pod, c, "RunContainerError", err.Error())
		return
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "==== %s starting %s from %s (restart %d)\n", time.Now().Format(time.RFC3339), argv[0], c.image.id, c.restarts)

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.image.workingDir(&c.spec)
	cmd.Env = env.environ()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group, so stopping reaches children; SIGKILL if we die,
	// so a killed test or local cloud leaves nothing behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		w.failStart(ctx, pod, c, "RunContainerError", err.Error())
		return
	}
	p := &proc{cmd: cmd, pid: cmd.Process.Pid, started: time.Now(), done: make(chan struct{})}
	c.proc, c.running, c.waiting, c.terminated, c.lastFailed = p, true, nil, nil, ""
	c.startedAt = metav1.NewTime(p.started)
	go func() {
		_ = cmd.Wait()
		p.code = exitCode(cmd.ProcessState)
		close(p.done)
		// Never blocks: one slot per container, and a container has at most
		// one unreported exit.
		w.exits <- exitEvent{c: c, p: p}
	}()
	w.r.log.Info("started process", "pod", w.key(), "container", c.spec.Name, "pid", p.pid, "image", c.image.id, "argv0", argv[0])
	w.r.event(ctx, pod, c.spec.Name, corev1.EventTypeNormal, "Started", fmt.Sprintf("Started container %s (pid %d)", c.spec.Name, p.pid))
}

// pull brings the container's image onto the node, reporting as kubelet
// does: Pulling and Pulled events, or ErrImagePull (ErrImageNeverPull)
// and a retry with backoff. It says whether the container can start.
func (w *podWorker) pull(ctx context.Context, pod *corev1.Pod, c *container) bool {
	image := c.spec.Image
	began := time.Now()
	w.r.event(ctx, pod, c.spec.Name, corev1.EventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", image))
	img, err := w.r.images.ensure(ctx, image, c.spec.ImagePullPolicy)
	if err != nil {
		reason := "ErrImagePull"
		var perr *pullError
		if errors.As(err, &perr) {
			reason = perr.reason
		}
		c.waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: err.Error()}
		c.nextStart = time.Now().Add(c.backoff)
		// Reported as ErrImagePull for the first half of the wait, then as
		// ImagePullBackOff until the retry.
		c.backOffAt = time.Now().Add(c.backoff / 2)
		c.backoff = min(2*c.backoff, maxBackoff)
		w.r.log.Warn("pulling image", "pod", w.key(), "container", c.spec.Name, "image", image, "reason", reason, "err", err)
		w.r.event(ctx, pod, c.spec.Name, corev1.EventTypeWarning, "Failed", err.Error())
		w.r.event(ctx, pod, c.spec.Name, corev1.EventTypeWarning, "Failed", "Error: "+reason)
		return false
	}
	c.backOffAt = time.Time{}
	if img == nil {
		c.stub = true
		w.r.log.Debug("image not in the local registry: running a no-op container", "pod", w.key(), "container", c.spec.Name, "image", image)
		return true
	}
	c.image = img
	w.r.event(ctx, pod, c.spec.Name, corev1.EventTypeNormal, "Pulled",
		fmt.Sprintf("Pulled image %q (%s) in %s", image, img.id, time.Since(began).Round(time.Millisecond)))
	return true
}

// pullBackOff turns a failed pull's ErrImagePull into ImagePullBackOff
// while the retry waits.
func (w *podWorker) pullBackOff(ctx context.Context, pod *corev1.Pod, c *container) {
	c.backOffAt = time.Time{}
	if c.waiting == nil || c.waiting.Reason != "ErrImagePull" {
		return
	}
	msg := fmt.Sprintf("Back-off pulling image %q", c.spec.Image)
	c.waiting = &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: msg}
	w.r.event(ctx, pod, c.spec.Name, corev1.EventTypeNormal, "BackOff", msg)
	w.r.event(ctx, pod, c.spec.Name, corev1.EventTypeWarning, "Failed", "Error: ImagePullBackOff")
}

func (w *podWorker) failStart(ctx context.Context, pod *corev1.Pod, c *container, reason, msg string) {
	c.waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: msg}
	c.nextStart = time.Now().Add(c.backoff)
	c.backoff = min(2*c.backoff, maxBackoff)
	if msg != c.lastFailed {
		c.lastFailed = msg
		w.r.log.Warn("container failed to start", "pod", w.key(), "container", c.spec.Name, "reason", reason, "err", msg)
		w.r.event(ctx, pod, c.spec.Name, corev1.EventTypeWarning, "Failed", "Error: "+msg)
	}
}

// exited records a process's end and decides, by restart policy, whether
// the container runs again.
func (w *podWorker) exited(ctx context.Context, pod *corev1.Pod, ev exitEvent) {
	c, p := ev.c, ev.p
	if c.proc != p {
		return
	}
	c.proc, c.running = nil, false
	now := time.Now()
	term := &corev1.ContainerStateTerminated{
		ExitCode: p.code, Reason: "Completed",
		StartedAt: metav1.NewTime(p.started), FinishedAt: metav1.NewTime(now),
		ContainerID: containerID(p.pid),
	}
	if p.code != 0 {
		term.Reason = "Error"
	}
	w.r.log.Info("process exited", "pod", w.key(), "container", c.spec.Name, "pid", p.pid, "exitCode", p.code)

	policy := pod.Spec.RestartPolicy
	restart := policy == corev1.RestartPolicyAlways || policy == "" || (policy == corev1.RestartPolicyOnFailure && p.code != 0)
	if !restart {
		c.terminated, c.done = term, true
		return
	}
	if now.Sub(p.started) > backoffReset {
		c.backoff = initialBackoff
	}
	c.last = term
	c.restarts++
	c.waiting = &corev1.ContainerStateWaiting{
		Reason:  "CrashLoopBackOff",
		Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", c.backoff, c.spec.Name, w.name),
	}
	c.nextStart = now.Add(c.backoff)
	w.r.event(ctx, pod, c.spec.Name, corev1.EventTypeWarning, "BackOff", c.waiting.Message)
	c.backoff = min(2*c.backoff, maxBackoff)
}

// stopAll stops every running process: SIGTERM to its group, SIGKILL once
// the grace period is over, and waits until each is reaped.
func (w *podWorker) stopAll(grace time.Duration) {
	var running []*container
	for _, c := range w.containers {
		if c.proc != nil {
			running = append(running, c)
			_ = syscall.Kill(-c.proc.pid, syscall.SIGTERM)
		}
	}
	deadline := time.After(grace)
	for _, c := range running {
		p := c.proc
		select {
		case <-p.done:
		case <-deadline:
			// Closed channels from here on: later containers fall through.
			ch := make(chan time.Time)
			close(ch)
			deadline = ch
		}
		signal := "SIGTERM"
		select {
		case <-p.done:
		default:
			signal = "SIGKILL"
			_ = syscall.Kill(-p.pid, syscall.SIGKILL)
			<-p.done
		}
		w.r.log.Info("stopped process", "pod", w.key(), "container", c.spec.Name, "pid", p.pid, "signal", signal, "exitCode", p.code)
		c.proc, c.running = nil, false
	}
}

// deletePod finishes a graceful deletion once the processes are gone, as
// kubelet does, guarding against a newer pod of the same name.
func (w *podWorker) deletePod(ctx context.Context, pod *corev1.Pod) {
	err := w.r.client.CoreV1().Pods(w.ns).Delete(ctx, w.name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &w.uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && ctx.Err() == nil {
		w.r.log.Warn("deleting pod", "pod", w.key(), "err", err)
	}
	_ = os.RemoveAll(w.dir)
}

func grace(pod *corev1.Pod) time.Duration {
	d := maxGrace
	if pod != nil {
		if pod.DeletionGracePeriodSeconds != nil {
			d = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
		} else if pod.Spec.TerminationGracePeriodSeconds != nil {
			d = time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
		}
	}
	return min(max(d, 0), maxGrace)
}

// exitCode reports a signal death as 128+signal, like container runtimes.
func exitCode(ps *os.ProcessState) int32 {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	return int32(ps.ExitCode())
}

func containerID(pid int) string { return "localcloud://" + strconv.Itoa(pid) }
