// Package podruntime plays kubelet for one "system node" of the local cloud:
// containers of pods bound to it are pulled from the local cloud's OCI
// registry, unpacked, and their entrypoint runs as a real process, so
// applying the controller's Deployment really starts the controller image.
// A container whose image the registry does not hold (and does not name
// the registry) is reported as running without doing anything, the way
// kwok treats pods on its fake nodes; see images.go.
package podruntime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// DefaultNodeName is the system node's name when Config.NodeName is empty.
const DefaultNodeName = "localcloud-system"

// pollInterval is how often the pods bound to the node are listed.
const pollInterval = 250 * time.Millisecond

// Config configures a Runtime.
type Config struct {
	Client kubernetes.Interface
	// RESTConfig is the admin config; its Host and CA go into the
	// kubeconfigs handed to pods.
	RESTConfig *rest.Config
	NodeName   string
	// Registry is the host:port of the OCI registry images are pulled
	// from (plain HTTP, loopback). Empty: every container is a no-op.
	Registry string
	// StateDir receives pods/ (per-pod token, kubeconfig and container
	// logs) and images/ (unpacked images, by digest).
	StateDir string
	Logger   *slog.Logger
	// AWSIdentity, when set, says which AWS identity EKS would give a pod
	// (nil: none).
	AWSIdentity func(ctx context.Context, pod *corev1.Pod) (*AWSIdentity, error)
}

// Runtime is the system node's kubelet.
type Runtime struct {
	cfg     Config
	client  kubernetes.Interface
	apiHost string
	apiPort string
	caData  []byte
	log     *slog.Logger
	// images is nil without a registry.
	images *imageStore

	mu      sync.Mutex
	workers map[types.UID]*podWorker
	wg      sync.WaitGroup
}

// New validates cfg; nothing touches the cluster until Run.
func New(cfg Config) (*Runtime, error) {
	if cfg.RESTConfig == nil {
		return nil, errors.New("podruntime: RESTConfig is required")
	}
	if cfg.StateDir == "" {
		return nil, errors.New("podruntime: StateDir is required")
	}
	if cfg.NodeName == "" {
		cfg.NodeName = DefaultNodeName
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runtime{cfg: cfg, client: cfg.Client, log: cfg.Logger.With("node", cfg.NodeName), workers: map[types.UID]*podWorker{}}
	if r.client == nil {
		c, err := kubernetes.NewForConfig(cfg.RESTConfig)
		if err != nil {
			return nil, fmt.Errorf("podruntime: building client: %w", err)
		}
		r.client = c
	}
	u, err := url.Parse(cfg.RESTConfig.Host)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("podruntime: RESTConfig.Host %q is not a URL", cfg.RESTConfig.Host)
	}
	r.apiHost = u.Host
	r.apiPort = u.Port()
	if r.apiPort == "" {
		r.apiPort = "443"
	}
	r.caData = cfg.RESTConfig.CAData
	if len(r.caData) == 0 && cfg.RESTConfig.CAFile != "" {
		if r.caData, err = os.ReadFile(cfg.RESTConfig.CAFile); err != nil {
			return nil, fmt.Errorf("podruntime: reading CA: %w", err)
		}
	}
	if len(r.caData) == 0 {
		return nil, errors.New("podruntime: RESTConfig has no CA (CAData or CAFile)")
	}
	if cfg.Registry != "" {
		if r.images, err = newImageStore(cfg.Registry, filepath.Join(cfg.StateDir, "images")); err != nil {
			return nil, fmt.Errorf("podruntime: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(cfg.StateDir, "pods"), 0o755); err != nil {
		return nil, fmt.Errorf("podruntime: creating state directory: %w", err)
	}
	return r, nil
}

// NodeName is the system node's name.
func (r *Runtime) NodeName() string { return r.cfg.NodeName }

// Run registers the node, keeps it Ready and runs its pods until ctx ends;
// then it stops every process it started and waits for them.
func (r *Runtime) Run(ctx context.Context) error {
	if err := r.ensureNode(ctx); err != nil {
		return err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.heartbeat(ctx)
	}()
	r.log.Info("system node running", "registry", r.cfg.Registry)

	selector := fields.OneTermEqualSelector("spec.nodeName", r.cfg.NodeName).String()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		list, err := r.client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: selector})
		if err == nil {
			r.sync(ctx, list.Items)
		} else if ctx.Err() == nil {
			r.log.Warn("listing pods", "err", err)
		}
		select {
		case <-ctx.Done():
			// Workers watch ctx too; wait for their processes to be gone.
			r.wg.Wait()
			return nil
		case <-ticker.C:
		}
	}
}

// sync hands each listed pod to its worker, starting workers for new pods
// and telling workers of pods no longer listed that theirs is gone.
func (r *Runtime) sync(ctx context.Context, pods []corev1.Pod) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := make(map[types.UID]bool, len(pods))
	for i := range pods {
		p := &pods[i]
		seen[p.UID] = true
		w, ok := r.workers[p.UID]
		if !ok {
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				if p.DeletionTimestamp == nil {
					// A finished pod from an earlier run: nothing to restart.
					continue
				}
			}
			w = newPodWorker(r, p)
			r.workers[p.UID] = w
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				w.run(ctx)
				r.mu.Lock()
				delete(r.workers, w.uid)
				r.mu.Unlock()
			}()
		}
		w.update(p, false)
	}
	for uid, w := range r.workers {
		if !seen[uid] {
			w.update(nil, true)
		}
	}
}

// event records a kubelet-style event on a pod; failures are only logged,
// since events are advisory.
func (r *Runtime) event(ctx context.Context, pod *corev1.Pod, container, eventType, reason, message string) {
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: pod.Name + ".", Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
		},
		Reason: reason, Message: message, Type: eventType,
		Source:         corev1.EventSource{Component: "kubelet", Host: r.cfg.NodeName},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: "kubelet", ReportingInstance: r.cfg.NodeName,
	}
	if container != "" {
		ev.InvolvedObject.FieldPath = "spec.containers{" + container + "}"
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := r.client.CoreV1().Events(pod.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		r.log.Debug("recording event", "pod", pod.Namespace+"/"+pod.Name, "reason", reason, "err", err)
	}
}
