package podruntime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/nodewright/nodewright/test/image"
	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/localcloud/ociregistry"
	"github.com/nodewright/nodewright/test/localcloud/podruntime"
)

// sleeperImage is the sleeper binary as an image (entrypoint /sleeper,
// user 65532) in an in-process registry; rootImage is the same image
// whose config leaves the user unset, so it runs as root.
var sleeperBin, registryHost, sleeperImage, rootImage string

// testNode is this test's own system node: the local cloud already runs a
// runtime for "localcloud-system", and two kubelets must not share a node.
const testNode = "podruntime-test-system"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "podruntime-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sleeperBin = filepath.Join(dir, "sleeper")
	out, err := exec.Command("go", "build", "-o", sleeperBin, "./testdata/sleeper").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building sleeper: %v\n%s", err, out)
		os.Exit(1)
	}
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	registryHost = strings.TrimPrefix(reg.URL, "http://")
	if err := pushSleeper(); err != nil {
		fmt.Fprintf(os.Stderr, "pushing the sleeper image: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	reg.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pushSleeper builds the sleeper's image for this machine's platform with
// package image, as `make image` builds the controller's, and pushes it.
func pushSleeper() error {
	idx, err := image.Build(image.Options{
		Binaries:   []image.Binary{{Platform: v1.Platform{OS: "linux", Architecture: runtime.GOARCH}, Path: sleeperBin}},
		Version:    "v1",
		Entrypoint: "/sleeper",
		Created:    time.Unix(0, 0),
	})
	if err != nil {
		return err
	}
	ctx := context.Background()
	if _, err := ociregistry.PushIndex(ctx, registryHost, "tests/sleeper", "v1", idx); err != nil {
		return err
	}
	sleeperImage = registryHost + "/tests/sleeper:v1"
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg := cf.Config
	cfg.User = ""
	root, err := mutate.Config(img, cfg)
	if err != nil {
		return err
	}
	rootImage = registryHost + "/tests/sleeper:root"
	tag, err := name.NewTag(rootImage, name.Insecure)
	if err != nil {
		return err
	}
	return remote.Write(tag, root, remote.WithContext(ctx))
}

// report is what the sleeper writes about itself.
type report struct {
	PID  int      `json:"pid"`
	Args []string `json:"args"`
	Env  []string `json:"env"`
}

func (r report) env(name string) (string, bool) {
	for _, kv := range r.Env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v, true
		}
	}
	return "", false
}

type harness struct {
	t      *testing.T
	client kubernetes.Interface
	cloud  *localcloud.Cloud
	out    string

	state string
	stop  func()

	mu   sync.Mutex
	pids []int
}

func (h *harness) startRuntime(t *testing.T) {
	rt, err := podruntime.New(podruntime.Config{
		NodeName: testNode,
		Client:   h.client, RESTConfig: h.cloud.RESTConfig,
		Registry: registryHost,
		StateDir: h.state,
		Logger:   slog.New(slog.NewTextHandler(testLog{h.t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	h.stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(45 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	}
}

func (h *harness) stopRuntime(t *testing.T) {
	if h.stop != nil {
		h.stop()
		h.stop = nil
	}
}

func (h *harness) track(pid int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pids = append(h.pids, pid)
}

func TestSystemNode(t *testing.T) {
	cloud := localcloud.Start(t)
	client, err := kubernetes.NewForConfig(cloud.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, client: client, cloud: cloud, out: t.TempDir(), state: t.TempDir()}
	h.startRuntime(t)
	// Registered after Start, so it runs before the control plane stops.
	t.Cleanup(func() {
		h.stopRuntime(t)
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, pid := range h.pids {
			if alive(pid) {
				t.Errorf("process %d outlived the runtime", pid)
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		}
	})

	// Pods are refused until the service-account controller made "default".
	eventually(t, 30*time.Second, "default service account", func() error {
		_, err := client.CoreV1().ServiceAccounts("default").Get(context.Background(), "default", metav1.GetOptions{})
		return err
	})

	t.Run("NodeReadyAndTainted", h.testNode)
	t.Run("DeploymentRunsProcess", h.testDeployment)
	t.Run("NeverRestartFails", h.testNeverFails)
	t.Run("AlwaysRestarts", h.testAlwaysRestarts)
	t.Run("MissingSecret", h.testMissingSecret)
	t.Run("MissingImage", h.testMissingImage)
	t.Run("RootImageRefused", h.testRootImageRefused)
	t.Run("ForceDeleteStops", h.testForceDelete)
	t.Run("AdoptAfterRestart", h.testAdopt)
	t.Run("StopOnShutdown", h.testShutdownStops)
	t.Run("NodeStillReady", h.testStillReady)
}

func (h *harness) testNode(t *testing.T) {
	ctx := context.Background()
	eventually(t, 30*time.Second, "system node Ready", func() error {
		node, err := h.client.CoreV1().Nodes().Get(ctx, testNode, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !nodeReady(node) {
			return errors.New("not Ready")
		}
		// nodelifecycle drops this taint once it sees the node Ready.
		for _, taint := range node.Spec.Taints {
			if taint.Key == corev1.TaintNodeNotReady {
				return errors.New("still has the not-ready taint")
			}
		}
		return nil
	})
	node, err := h.client.CoreV1().Nodes().Get(ctx, testNode, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := node.Annotations[localcloud.KwokNodeAnnotation]; ok {
		t.Errorf("system node is kwok-managed")
	}
	if !slices.ContainsFunc(node.Spec.Taints, func(x corev1.Taint) bool {
		return x.Key == "CriticalAddonsOnly" && x.Value == "true" && x.Effect == corev1.TaintEffectNoSchedule
	}) {
		t.Errorf("taints = %v, want CriticalAddonsOnly=true:NoSchedule", node.Spec.Taints)
	}
	for k, v := range map[string]string{
		"kubernetes.io/hostname": testNode, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
		"node.kubernetes.io/instance-type": "m5.xlarge", "topology.kubernetes.io/zone": "us-east-1a",
		"eks.amazonaws.com/nodegroup": "system",
	} {
		if node.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, node.Labels[k], v)
		}
	}
	if got := node.Status.Allocatable.Memory().String(); got != "16Gi" {
		t.Errorf("allocatable memory = %s, want 16Gi", got)
	}
	lease, err := h.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, testNode, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("node lease: %v", err)
	}
	if lease.Spec.RenewTime == nil || time.Since(lease.Spec.RenewTime.Time) > 30*time.Second {
		t.Errorf("lease renewTime = %v, want recent", lease.Spec.RenewTime)
	}

	// Without the toleration, the scheduler must refuse the node.
	pod := h.pod("intolerant", corev1.RestartPolicyAlways, nil)
	pod.Spec.Tolerations = nil
	h.create(t, pod)
	eventually(t, 30*time.Second, "pod reported unschedulable", func() error {
		p, err := h.client.CoreV1().Pods("default").Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Spec.NodeName != "" {
			t.Fatalf("intolerant pod bound to %s", p.Spec.NodeName)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				return nil
			}
		}
		return fmt.Errorf("conditions %v", p.Status.Conditions)
	})
	h.deletePod(t, pod.Name)
}

func (h *harness) testDeployment(t *testing.T) {
	ctx := context.Background()
	_, err := h.client.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "sleeper-secret"},
		Data:       map[string][]byte{"token": []byte("s3cret")},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(h.out, "deployment.json")
	tmpl := h.pod("", corev1.RestartPolicyAlways, []corev1.EnvVar{
		{Name: "SLEEPER_OUT", Value: outFile},
		{Name: "MY_POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "MY_NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
		{Name: "SECRET_TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "sleeper-secret"}, Key: "token"}}},
		{Name: "GREETING", Value: "hello $(MY_POD)"},
	})
	tmpl.Spec.Containers[0].Command = []string{"/sleeper", "--from-command"}
	tmpl.Spec.Containers[0].Args = []string{"--node=$(MY_NODE)"}
	// The image's user is 65532: runAsNonRoot is satisfied.
	tmpl.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}
	// Not in the local registry and not naming it: a no-op, as on kwok.
	tmpl.Spec.Containers = append(tmpl.Spec.Containers, corev1.Container{Name: "sidecar", Image: "docker.io/library/busybox:1.36"})
	labels := map[string]string{"app": "sleeper"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "sleeper", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: tmpl.Spec},
		},
	}
	if _, err := h.client.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	rep := waitReport(t, outFile)
	h.track(rep.PID)
	if !alive(rep.PID) {
		t.Fatalf("pid %d not running", rep.PID)
	}
	if want := []string{"--from-command", "--node=" + testNode}; len(rep.Args) < 1 || !slices.Equal(rep.Args[1:], want) {
		t.Errorf("argv = %q, want [<root>/sleeper %q]", rep.Args, want)
	} else if !strings.HasSuffix(rep.Args[0], "/rootfs/sleeper") || strings.HasPrefix(rep.Args[0], filepath.Dir(sleeperBin)) {
		t.Errorf("argv[0] = %q, want the sleeper unpacked from the image", rep.Args[0])
	}
	u, _ := url.Parse(h.cloud.RESTConfig.Host)
	for name, want := range map[string]string{
		"KUBERNETES_SERVICE_HOST": "127.0.0.1",
		"KUBERNETES_SERVICE_PORT": u.Port(),
		"SECRET_TOKEN":            "s3cret",
		"MY_NODE":                 testNode,
	} {
		if got, _ := rep.env(name); got != want {
			t.Errorf("env %s = %q, want %q", name, got, want)
		}
	}
	podName, _ := rep.env("MY_POD")
	if !strings.HasPrefix(podName, "sleeper-") {
		t.Errorf("MY_POD = %q, want the pod's name", podName)
	}
	if got, _ := rep.env("GREETING"); got != "hello "+podName {
		t.Errorf("GREETING = %q, want expanded", got)
	}

	// The kubeconfig authenticates as the pod's service account.
	kubeconfig, ok := rep.env("KUBECONFIG")
	if !ok {
		t.Fatal("no KUBECONFIG in the process's environment")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("loading pod kubeconfig: %v", err)
	}
	if cfg.BearerTokenFile == "" {
		t.Errorf("pod kubeconfig has no tokenFile")
	}
	podClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := podClient.Discovery().ServerVersion(); err != nil || v.GitVersion == "" {
		t.Errorf("GET /version with pod credentials: %v %v", v, err)
	}
	review, err := podClient.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectReview with pod credentials: %v", err)
	}
	if got := review.Status.UserInfo.Username; got != "system:serviceaccount:default:default" {
		t.Errorf("pod authenticates as %q", got)
	}
	if got := review.Status.UserInfo.Extra["authentication.kubernetes.io/pod-name"]; len(got) != 1 || got[0] != podName {
		t.Errorf("token bound to pod %v, want %s", got, podName)
	}

	eventually(t, 30*time.Second, "pod Running and Ready, deployment available", func() error {
		p, err := h.client.CoreV1().Pods("default").Get(ctx, podName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning || !podReady(p) || p.Status.PodIP != "127.0.0.1" {
			return fmt.Errorf("phase %s ready %v ip %q", p.Status.Phase, podReady(p), p.Status.PodIP)
		}
		if len(p.Status.ContainerStatuses) != 2 {
			return fmt.Errorf("container statuses %v", p.Status.ContainerStatuses)
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Running == nil || !cs.Ready {
				return fmt.Errorf("container %s: %+v", cs.Name, cs.State)
			}
		}
		d, err := h.client.AppsV1().Deployments("default").Get(ctx, "sleeper", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if d.Status.AvailableReplicas != 1 {
			return fmt.Errorf("available replicas %d", d.Status.AvailableReplicas)
		}
		return nil
	})

	// Deleting the Deployment cascades to the pod, which must take its
	// process with it before it disappears.
	if err := h.client.AppsV1().Deployments("default").Delete(ctx, "sleeper", metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationForeground),
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "pod gone", func() error {
		_, err := h.client.CoreV1().Pods("default").Get(ctx, podName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("pod still there: %v", err)
	})
	if alive(rep.PID) {
		t.Errorf("pid %d still running after its pod was deleted", rep.PID)
	}
}

func (h *harness) testNeverFails(t *testing.T) {
	outFile := filepath.Join(h.out, "never.json")
	pod := h.pod("exits-three", corev1.RestartPolicyNever, []corev1.EnvVar{
		{Name: "SLEEPER_OUT", Value: outFile}, {Name: "SLEEPER_EXIT", Value: "3"},
	})
	h.create(t, pod)
	rep := waitReport(t, outFile)
	h.track(rep.PID)
	p := h.waitPod(t, pod.Name, "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	cs := p.Status.ContainerStatuses[0]
	if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 3 {
		t.Errorf("state = %+v, want terminated with exit code 3", cs.State)
	}
	if cs.RestartCount != 0 {
		t.Errorf("restartCount = %d with restartPolicy Never", cs.RestartCount)
	}
	if podReady(p) {
		t.Errorf("failed pod reported Ready")
	}
	h.deletePod(t, pod.Name)
}

func (h *harness) testAlwaysRestarts(t *testing.T) {
	pod := h.pod("crashloop", corev1.RestartPolicyAlways, []corev1.EnvVar{{Name: "SLEEPER_EXIT", Value: "3"}})
	h.create(t, pod)
	p := h.waitPod(t, pod.Name, "restarted twice", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 2
	})
	cs := p.Status.ContainerStatuses[0]
	if cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 3 {
		t.Errorf("lastState = %+v, want terminated with exit code 3", cs.LastTerminationState)
	}
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase = %s, want Running while restarting", p.Status.Phase)
	}
	h.deletePod(t, pod.Name)
}

func (h *harness) testMissingSecret(t *testing.T) {
	pod := h.pod("no-secret", corev1.RestartPolicyAlways, []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Key: "k"},
	}}})
	h.create(t, pod)
	h.waitPod(t, pod.Name, "CreateContainerConfigError", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == "CreateContainerConfigError"
	})
	eventually(t, 30*time.Second, "Failed event naming the secret", func() error {
		evs, err := h.client.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{
			FieldSelector: "involvedObject.name=" + pod.Name + ",reason=Failed",
		})
		if err != nil {
			return err
		}
		for _, e := range evs.Items {
			if strings.Contains(e.Message, `secret "absent"`) {
				return nil
			}
		}
		return fmt.Errorf("events %v", evs.Items)
	})
	h.deletePod(t, pod.Name)
}

// testMissingImage names an image the local registry does not have: the
// container waits with ErrImagePull, then ImagePullBackOff, as kubelet
// reports a failed pull, with a Failed event.
func (h *harness) testMissingImage(t *testing.T) {
	pod := h.pod("no-image", corev1.RestartPolicyAlways, nil)
	pod.Spec.Containers[0].Image = registryHost + "/tests/absent:v1"
	h.create(t, pod)
	for _, reason := range []string{"ErrImagePull", "ImagePullBackOff"} {
		h.waitPod(t, pod.Name, reason, func(p *corev1.Pod) bool {
			return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
				p.Status.ContainerStatuses[0].State.Waiting.Reason == reason
		})
	}
	eventually(t, 30*time.Second, "Failed event naming the image", func() error {
		evs, err := h.client.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{
			FieldSelector: "involvedObject.name=" + pod.Name + ",reason=Failed",
		})
		if err != nil {
			return err
		}
		for _, e := range evs.Items {
			if strings.Contains(e.Message, "tests/absent:v1") {
				return nil
			}
		}
		return fmt.Errorf("events %v", evs.Items)
	})
	h.deletePod(t, pod.Name)
}

// testRootImageRefused runs an image with no user under runAsNonRoot:
// refused before any process starts, as kubelet refuses it.
func (h *harness) testRootImageRefused(t *testing.T) {
	outFile := filepath.Join(h.out, "root.json")
	pod := h.pod("root-image", corev1.RestartPolicyAlways, []corev1.EnvVar{{Name: "SLEEPER_OUT", Value: outFile}})
	pod.Spec.Containers[0].Image = rootImage
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsNonRoot: ptr.To(true)}
	h.create(t, pod)
	p := h.waitPod(t, pod.Name, "CreateContainerConfigError", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == "CreateContainerConfigError"
	})
	if msg := p.Status.ContainerStatuses[0].State.Waiting.Message; !strings.Contains(msg, "root") {
		t.Errorf("waiting message %q does not say why", msg)
	}
	if _, err := os.Stat(outFile); err == nil {
		t.Errorf("the root image ran")
	}
	h.deletePod(t, pod.Name)
}

// testForceDelete removes the pod at once, without a graceful phase the
// runtime could see: the process must still be stopped.
func (h *harness) testForceDelete(t *testing.T) {
	outFile := filepath.Join(h.out, "forced.json")
	pod := h.pod("forced", corev1.RestartPolicyAlways, []corev1.EnvVar{{Name: "SLEEPER_OUT", Value: outFile}})
	h.create(t, pod)
	rep := waitReport(t, outFile)
	h.track(rep.PID)
	if err := h.client.CoreV1().Pods("default").Delete(context.Background(), pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "process stopped", func() error {
		if alive(rep.PID) {
			return fmt.Errorf("pid %d alive", rep.PID)
		}
		return nil
	})
}

// testAdopt restarts the runtime, as a restart of the local cloud would:
// the new one finds the pod bound to its node and starts its process again.
func (h *harness) testAdopt(t *testing.T) {
	outFile := filepath.Join(h.out, "adopted.json")
	pod := h.pod("adopted", corev1.RestartPolicyAlways, []corev1.EnvVar{{Name: "SLEEPER_OUT", Value: outFile}})
	h.create(t, pod)
	first := waitReport(t, outFile)
	h.track(first.PID)
	h.waitPod(t, pod.Name, "Ready", podReady)

	h.stopRuntime(t)
	if alive(first.PID) {
		t.Fatalf("pid %d survived the runtime's stop", first.PID)
	}
	if err := os.Remove(outFile); err != nil {
		t.Fatal(err)
	}
	h.startRuntime(t)
	second := waitReport(t, outFile)
	h.track(second.PID)
	if second.PID == first.PID || !alive(second.PID) {
		t.Errorf("after restart pid %d (alive %v), before %d", second.PID, alive(second.PID), first.PID)
	}
	p := h.waitPod(t, pod.Name, "Running with the new process", func(p *corev1.Pod) bool {
		return podReady(p) && len(p.Status.ContainerStatuses) == 1 &&
			p.Status.ContainerStatuses[0].ContainerID == fmt.Sprintf("localcloud://%d", second.PID)
	})
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s", p.Status.Phase)
	}
	h.deletePod(t, pod.Name)
	if alive(second.PID) {
		t.Errorf("pid %d still running after its pod was deleted", second.PID)
	}
}

// testShutdownStops leaves a running pod for the cleanup, which checks that
// stopping the runtime stops its process.
func (h *harness) testShutdownStops(t *testing.T) {
	outFile := filepath.Join(h.out, "left.json")
	h.create(t, h.pod("left-running", corev1.RestartPolicyAlways, []corev1.EnvVar{{Name: "SLEEPER_OUT", Value: outFile}}))
	rep := waitReport(t, outFile)
	h.track(rep.PID)
}

// testStillReady runs last, most of a minute after the node registered:
// past nodelifecycle's grace period, so a missed heartbeat would show.
func (h *harness) testStillReady(t *testing.T) {
	node, err := h.client.CoreV1().Nodes().Get(context.Background(), testNode, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !nodeReady(node) {
		t.Errorf("node conditions %+v", node.Status.Conditions)
	}
	for _, taint := range node.Spec.Taints {
		if taint.Key == corev1.TaintNodeNotReady || taint.Key == corev1.TaintNodeUnreachable {
			t.Errorf("node has taint %v", taint)
		}
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady && time.Since(c.LastHeartbeatTime.Time) > 20*time.Second {
			t.Errorf("last heartbeat %s ago", time.Since(c.LastHeartbeatTime.Time))
		}
	}
}

// pod is a bare pod for the system node running the sleeper.
func (h *harness) pod(name string, policy corev1.RestartPolicy, env []corev1.EnvVar) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{
			RestartPolicy:                 policy,
			NodeSelector:                  map[string]string{"kubernetes.io/hostname": testNode},
			Tolerations:                   []corev1.Toleration{{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists}},
			Containers:                    []corev1.Container{{Name: "main", Image: sleeperImage, Env: env}},
			TerminationGracePeriodSeconds: ptr.To[int64](10),
		},
	}
}

func (h *harness) create(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if _, err := h.client.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod %s: %v", pod.Name, err)
	}
}

func (h *harness) deletePod(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	if err := h.client.CoreV1().Pods("default").Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting pod %s: %v", name, err)
	}
	eventually(t, 40*time.Second, "pod "+name+" gone", func() error {
		_, err := h.client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%v)", err)
	})
}

func (h *harness) waitPod(t *testing.T, name, what string, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	eventually(t, 30*time.Second, "pod "+name+" "+what, func() error {
		p, err := h.client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		last = p
		if !ok(p) {
			return fmt.Errorf("phase %s, statuses %+v", p.Status.Phase, p.Status.ContainerStatuses)
		}
		return nil
	})
	return last
}

func waitReport(t *testing.T, path string) report {
	t.Helper()
	var rep report
	eventually(t, 60*time.Second, "process report "+filepath.Base(path), func() error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return json.Unmarshal(data, &rep)
	})
	return rep
}

func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// alive treats a zombie as gone: the runtime reaps its children, so a
// zombie only lingers for an instant.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(data), ')')
	return i < 0 || i+2 >= len(data) || (data[i+2] != 'Z' && data[i+2] != 'X')
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
