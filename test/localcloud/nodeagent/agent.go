// Package nodeagent plays kubelet for the local AWS emulator's instances:
// once an instance has been running for a boot delay, it reads the
// instance's userData as nodeadm or Bottlerocket would and registers the
// Node kubelet would register, for kwok to keep Ready. When the instance
// terminates it deletes the Node, as the cloud node-lifecycle controller
// does. Instances whose bootstrap is broken never join.
package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

const (
	// KwokNodeAnnotation (value "fake") hands a Node to kwok, which marks it
	// Ready, renews its lease and runs its pods. It matches the local
	// cloud's kwok selector.
	KwokNodeAnnotation = "kwok.x-k8s.io/node"
	// KubeletVersion is what the registered nodes report.
	KubeletVersion = "v1.37.2"
	// ProviderIDPrefix marks EC2 Nodes.
	ProviderIDPrefix = "aws:///"
	// WorldAnnotation names the emulator world whose instance a Node is:
	// an agent deletes only its own world's Nodes, so two emulators (a test's
	// and the local cloud's) can share a cluster.
	WorldAnnotation = "localcloud.nodewright.dev/world"

	defaultBootDelay = 2 * time.Second
	syncInterval     = 200 * time.Millisecond
)

// Config configures an Agent.
type Config struct {
	// Emulator is the AWS emulator whose instances become nodes.
	Emulator *awsemu.Server
	// Client registers and deletes Nodes.
	Client kubernetes.Interface
	// BootDelay is how long an instance runs before its node registers
	// (default 2s).
	BootDelay time.Duration
	// Region for the topology label; empty means the emulator's.
	Region string
	// Logger receives one line per event; nil discards.
	Logger *slog.Logger
	// Clock measures boot delays; nil means real time. The sync loop itself
	// runs on real time, so Run works with a fake clock too.
	Clock clock.Clock
}

// Agent registers and deletes Nodes for emulated instances.
type Agent struct {
	cfg   Config
	log   *slog.Logger
	clock clock.Clock
	types map[string]catalog.InstanceType

	// mu serialises passes, so Run and a test's Sync may overlap safely.
	mu sync.Mutex
	// runningSince is when a pass first saw each instance running.
	runningSince map[string]time.Time
	// joined holds instances whose Node was registered. Like kubelet, the
	// agent does not register again if someone deletes the Node while the
	// instance runs (nodewright does so before it terminates).
	joined map[string]bool
	// statusDue holds Nodes created whose status update has not succeeded yet.
	statusDue map[string]*corev1.Node
	// neverJoins holds each broken instance's reason, logged once.
	neverJoins map[string]string
}

// New validates cfg and returns an Agent.
func New(cfg Config) (*Agent, error) {
	if cfg.Emulator == nil {
		return nil, errors.New("nodeagent: Config.Emulator is required")
	}
	if cfg.Client == nil {
		return nil, errors.New("nodeagent: Config.Client is required")
	}
	if cfg.BootDelay <= 0 {
		cfg.BootDelay = defaultBootDelay
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	all, err := catalog.InstanceTypes()
	if err != nil {
		return nil, fmt.Errorf("nodeagent: loading instance-type catalog: %w", err)
	}
	types := make(map[string]catalog.InstanceType, len(all))
	for _, it := range all {
		types[it.Name] = it
	}
	return &Agent{
		cfg: cfg, log: cfg.Logger, clock: cfg.Clock, types: types,
		runningSince: map[string]time.Time{}, joined: map[string]bool{},
		statusDue: map[string]*corev1.Node{}, neverJoins: map[string]string{},
	}, nil
}

// Run syncs every 200 ms until ctx is done. Failed passes are logged and
// retried on the next tick.
func (a *Agent) Run(ctx context.Context) error {
	t := time.NewTicker(syncInterval)
	defer t.Stop()
	for {
		if err := a.Sync(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("node agent pass failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// instance is what a pass needs of an emulated instance, copied out of the
// world so that no Kubernetes call happens under the emulator's lock.
type instance struct {
	ID, Type, Zone, State, Architecture string
	PrivateIP, PrivateDNS, UserData     string
	LaunchTime                          time.Time
	NeverJoin                           bool
	// VolumeGiB are the sizes of the EBS volumes it was launched with, by
	// device name.
	VolumeGiB map[string]int
}

// ephemeralBytes is the size of the volume kubelet's filesystem lives on
// for the bootstrap's OS (the root volume; Bottlerocket's data volume),
// or 0 when the launch left its size to the image.
func (in instance) ephemeralBytes(format string) int64 {
	device := "/dev/xvda"
	if format == FormatBottlerocket {
		device = "/dev/xvdb"
	}
	return int64(in.VolumeGiB[device]) << 30
}

type worldView struct {
	worldID                              string
	region, clusterName, clusterEndpoint string
	pendingToRunning                     time.Duration
	instances                            map[string]instance
}

func (a *Agent) snapshot() worldView {
	var v worldView
	a.cfg.Emulator.Do(func(w *awsemu.World) {
		v.worldID = w.ID
		v.region = w.Region
		v.clusterName = w.Options.ClusterName
		v.clusterEndpoint = w.Options.ClusterEndpoint
		v.pendingToRunning = w.Options.Timing.PendingToRunning
		v.instances = make(map[string]instance, len(w.EC2.Instances))
		for id, in := range w.EC2.Instances {
			view := instance{
				ID: id, Type: in.Type, Zone: in.Zone, State: in.State, Architecture: in.Architecture,
				PrivateIP: in.PrivateIP, PrivateDNS: in.PrivateDNS, UserData: in.UserData,
				LaunchTime: in.LaunchTime, NeverJoin: in.NeverJoin, VolumeGiB: map[string]int{},
			}
			if d := w.EC2.Launches[id]; d != nil {
				for _, dev := range d.Devices {
					view.VolumeGiB[dev.Name] = dev.SizeGiB
				}
			}
			v.instances[id] = view
		}
	})
	if a.cfg.Region != "" {
		v.region = a.cfg.Region
	}
	return v
}

// Sync makes one pass: registers the Nodes of booted instances and deletes
// those of terminated ones.
func (a *Agent) Sync(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	view := a.snapshot()
	now := a.clock.Now()

	nodes, err := a.cfg.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	var errs []error
	hasNode := map[string]bool{}
	for i := range nodes.Items {
		node := &nodes.Items[i]
		id, ok := instanceID(node.Spec.ProviderID)
		if !ok {
			continue // not an EC2 node: the system node, test nodes
		}
		hasNode[id] = true
		if node.Annotations[WorldAnnotation] != view.worldID {
			continue // registered for another emulator's instances
		}
		in, exists := view.instances[id]
		if exists && in.State != "terminated" {
			continue
		}
		reason := "instance terminated"
		if !exists {
			reason = "instance gone"
		}
		if node.DeletionTimestamp == nil {
			err := a.cfg.Client.CoreV1().Nodes().Delete(ctx, node.Name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting node %s of %s: %w", node.Name, id, err))
				continue
			}
			a.log.Info("deleted node", "node", node.Name, "instance", id, "reason", reason)
		}
		delete(a.statusDue, id)
	}

	for id, in := range view.instances {
		if in.State != "running" {
			delete(a.runningSince, id)
			continue
		}
		since, seen := a.runningSince[id]
		if !seen {
			since = now
			a.runningSince[id] = now
		}
		if hasNode[id] {
			a.joined[id] = true
			if due := a.statusDue[id]; due != nil {
				if err := a.updateStatus(ctx, due); err != nil {
					errs = append(errs, err)
				} else {
					delete(a.statusDue, id)
				}
			}
			continue
		}
		if a.joined[id] || a.neverJoins[id] != "" {
			continue
		}
		if in.NeverJoin {
			a.neverJoin(in, "bootstrap broken (NeverJoin)")
			continue
		}
		if !a.booted(in, since, now, view.pendingToRunning) {
			continue
		}
		node, reason := a.desiredNode(in, view)
		if reason != "" {
			a.neverJoin(in, reason)
			continue
		}
		if err := a.register(ctx, in, node); err != nil {
			errs = append(errs, err)
		}
	}
	// Forget instances the emulator no longer holds (retention expired).
	for id := range a.joined {
		if _, ok := view.instances[id]; !ok {
			delete(a.joined, id)
		}
	}
	for id := range a.neverJoins {
		if _, ok := view.instances[id]; !ok {
			delete(a.neverJoins, id)
		}
	}
	for id := range a.runningSince {
		if _, ok := view.instances[id]; !ok {
			delete(a.runningSince, id)
		}
	}
	return errors.Join(errs...)
}

// booted reports whether kubelet would have started by now: BootDelay after
// the agent first saw the instance running, or, for instances already
// running when the agent started, BootDelay after they must have reached
// running.
func (a *Agent) booted(in instance, since, now time.Time, pendingToRunning time.Duration) bool {
	if !now.Before(since.Add(a.cfg.BootDelay)) {
		return true
	}
	return !in.LaunchTime.IsZero() && !now.Before(in.LaunchTime.Add(pendingToRunning+a.cfg.BootDelay))
}

func (a *Agent) neverJoin(in instance, reason string) {
	a.neverJoins[in.ID] = reason
	a.log.Warn("instance never joins", "instance", in.ID, "type", in.Type, "reason", reason)
}

// NeverJoins returns why each broken instance never joined, by instance id.
func (a *Agent) NeverJoins() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]string, len(a.neverJoins))
	for k, v := range a.neverJoins {
		out[k] = v
	}
	return out
}

func (a *Agent) register(ctx context.Context, in instance, node *corev1.Node) error {
	nodes := a.cfg.Client.CoreV1().Nodes()
	created, err := nodes.Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		existing, getErr := nodes.Get(ctx, node.Name, metav1.GetOptions{})
		if getErr != nil {
			return fmt.Errorf("reading node %s that blocks %s: %w", node.Name, in.ID, getErr)
		}
		if existing.Spec.ProviderID != node.Spec.ProviderID {
			a.neverJoin(in, fmt.Sprintf("node name %s is taken by providerID %q", node.Name, existing.Spec.ProviderID))
			return nil
		}
		created, err = existing, nil
	}
	if err != nil {
		return fmt.Errorf("registering node %s for %s: %w", node.Name, in.ID, err)
	}
	a.joined[in.ID] = true
	a.log.Info("registered node", "node", node.Name, "instance", in.ID, "type", in.Type, "zone", in.Zone)
	if statusMatches(created, node) {
		return nil
	}
	if err := a.updateStatus(ctx, node); err != nil {
		a.statusDue[in.ID] = node
		return err
	}
	return nil
}

// updateStatus writes the status kubelet reports through the status
// subresource, keeping whatever conditions kwok has set meanwhile.
func (a *Agent) updateStatus(ctx context.Context, want *corev1.Node) error {
	nodes := a.cfg.Client.CoreV1().Nodes()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		cur, err := nodes.Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("reading node %s for its status: %w", want.Name, err)
		}
		if statusMatches(cur, want) {
			return nil
		}
		cur.Status.Capacity = want.Status.Capacity
		cur.Status.Allocatable = want.Status.Allocatable
		cur.Status.Addresses = want.Status.Addresses
		cur.Status.NodeInfo = want.Status.NodeInfo
		_, err = nodes.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("updating status of node %s: %w", want.Name, err)
		}
		lastErr = err
	}
	return fmt.Errorf("updating status of node %s: %w", want.Name, lastErr)
}

func statusMatches(got, want *corev1.Node) bool {
	return sameResources(got.Status.Capacity, want.Status.Capacity) &&
		sameResources(got.Status.Allocatable, want.Status.Allocatable) &&
		reflect.DeepEqual(got.Status.Addresses, want.Status.Addresses) &&
		got.Status.NodeInfo.KubeletVersion == want.Status.NodeInfo.KubeletVersion &&
		got.Status.NodeInfo.Architecture == want.Status.NodeInfo.Architecture
}

func sameResources(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, q := range b {
		if got, ok := a[k]; !ok || got.Cmp(q) != 0 {
			return false
		}
	}
	return true
}

// ProviderID is the spec.providerID the AWS cloud provider gives an instance's Node.
func ProviderID(zone, instanceID string) string {
	return ProviderIDPrefix + zone + "/" + instanceID
}

// instanceID reads the instance id out of an aws:///<zone>/<id> providerID.
func instanceID(providerID string) (string, bool) {
	rest, ok := strings.CutPrefix(providerID, ProviderIDPrefix)
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, "/")
	id := rest[i+1:]
	return id, strings.HasPrefix(id, "i-")
}

// privateDNSName is EC2's default hostname for an IP when the instance
// carries none: ip-10-0-1-2.ec2.internal in us-east-1,
// ip-10-0-1-2.<region>.compute.internal elsewhere.
func privateDNSName(ip, region string) string {
	if ip == "" {
		return ""
	}
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}
