package nodeagent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
	"github.com/nodewright/nodewright/test/localcloud/nodeagent"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	testingclock "k8s.io/utils/clock/testing"
)

// syncBuffer lets the agent's logger and the test share a buffer.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// events returns the logged lines with the given message.
func (b *syncBuffer) events(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func TestAgentRegistersAndDeletesNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	cloud := localcloud.Start(t)
	cs := kubernetes.NewForConfigOrDie(cloud.RESTConfig)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	apiServer := cloud.RESTConfig.Host
	emu := awsemu.NewForTest(t, awsemu.Options{World: awsemu.WorldOptions{ClusterEndpoint: apiServer}})

	clk := testingclock.NewFakeClock(time.Now())
	logs := &syncBuffer{}
	agent, err := nodeagent.New(nodeagent.Config{
		Emulator: emu, Client: cs, Clock: clk,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}

	var worldID string
	emu.Do(func(w *awsemu.World) { worldID = w.ID })
	// Nodes the agent must leave alone, and one whose instance is gone.
	for _, n := range []*corev1.Node{
		{ObjectMeta: metav1.ObjectMeta{Name: "system"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "other-cloud"}, Spec: corev1.NodeSpec{ProviderID: "kind://docker/kind/other-cloud"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "stale", Annotations: map[string]string{nodeagent.WorldAnnotation: worldID}}, Spec: corev1.NodeSpec{ProviderID: "aws:///us-east-1a/i-0000000000000dead"}},
		// Another emulator's node: its instance is unknown here, and it stays.
		{ObjectMeta: metav1.ObjectMeta{Name: "other-world", Annotations: map[string]string{nodeagent.WorldAnnotation: "world-elsewhere"}}, Spec: corev1.NodeSpec{ProviderID: "aws:///us-east-1a/i-0000000000000beef"}},
	} {
		if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating node %s: %v", n.Name, err)
		}
	}

	launched := clk.Now()
	running := func(id, typ, zone, ip, userData string) *awsemu.Instance {
		return &awsemu.Instance{
			ID: id, Type: typ, Zone: zone, State: "running", CapacityType: "on-demand",
			LaunchTime: launched, PrivateIP: ip, PrivateDNS: "ip-" + strings.ReplaceAll(ip, ".", "-") + ".ec2.internal",
			Architecture: "x86_64", UserData: userData,
		}
	}
	al2023 := running("i-0a1023000000000a1", "m5.large", "us-east-1a", "10.0.1.10", b64(nodeadmMIME("localcloud", apiServer, nodeadmKubelet)))
	bottlerocket := running("i-0b0771000000000b2", "m6g.large", "us-east-1b", "10.0.2.20", b64(bottlerocketTOML("localcloud", apiServer)))
	bottlerocket.Architecture = "arm64"
	garbage := running("i-0c0000000000000c3", "m5.large", "us-east-1a", "10.0.1.30", b64("\x00garbage{{"))
	broken := running("i-0d0000000000000d4", "m5.large", "us-east-1c", "10.0.3.40", b64(nodeadmMIME("localcloud", apiServer, nodeadmKubelet)))
	broken.NeverJoin = true
	otherCluster := running("i-0e0000000000000e5", "m5.large", "us-east-1c", "10.0.3.50", b64(nodeadmMIME("prod", apiServer, nodeadmKubelet)))
	pending := running("i-0f0000000000000f6", "m5.large", "us-east-1c", "10.0.3.60", b64(nodeadmMIME("localcloud", apiServer, nodeadmKubelet)))
	pending.State = "pending"
	// Running long before the agent started (an agent restart): no wait.
	veteran := running("i-0a0000000000000a7", "c5.xlarge", "us-east-1b", "10.0.2.70", b64(nodeadmMIME("localcloud", apiServer, nodeadmKubelet)))
	veteran.LaunchTime = launched.Add(-time.Minute)
	emu.Do(func(w *awsemu.World) {
		for _, in := range []*awsemu.Instance{al2023, bottlerocket, garbage, broken, otherCluster, pending, veteran} {
			w.EC2.Instances[in.ID] = in
		}
	})

	nodeNames := func() map[string]bool {
		t.Helper()
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, n := range list.Items {
			// The local cloud's own system node is not the agent's business.
			if n.Name != "localcloud-system" {
				out[n.Name] = true
			}
		}
		return out
	}

	// Kubelet has not booted yet: only the veteran registers, and the stale node goes.
	if err := agent.Sync(ctx); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got, want := nodeNames(), map[string]bool{"system": true, "other-cloud": true, "other-world": true, veteran.PrivateDNS: true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("nodes before boot delay = %v, want %v", got, want)
	}

	clk.Step(2 * time.Second)
	for range 3 { // repeated passes must not register or log twice
		if err := agent.Sync(ctx); err != nil {
			t.Fatalf("Sync: %v", err)
		}
	}
	alName, brName := al2023.PrivateDNS, bottlerocket.PrivateDNS
	if got, want := nodeNames(), map[string]bool{"system": true, "other-cloud": true, "other-world": true, alName: true, brName: true, veteran.PrivateDNS: true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("nodes after boot = %v, want %v", got, want)
	}

	cases := []struct {
		in          *awsemu.Instance
		arch        string
		labels      map[string]string
		taints      []corev1.Taint
		capacity    map[corev1.ResourceName]string
		allocatable map[corev1.ResourceName]string
	}{{
		in: al2023, arch: "amd64",
		labels: map[string]string{"nodewright.dev/pool": "default", "team": "blue"},
		taints: []corev1.Taint{
			{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoExecute},
			{Key: "nodewright.dev/unregistered", Effect: corev1.TaintEffectNoSchedule},
		},
		capacity: map[corev1.ResourceName]string{"cpu": "2", "memory": "7577Mi", "pods": "20", "ephemeral-storage": "20Gi"},
		// 7577 - (11*20+255) - 100
		allocatable: map[corev1.ResourceName]string{"cpu": "1930m", "memory": "7002Mi", "pods": "20", "ephemeral-storage": "20Gi"},
	}, {
		in: bottlerocket, arch: "arm64",
		labels: map[string]string{"nodewright.dev/pool": "br", "team": "green"},
		taints: []corev1.Taint{
			{Key: "dedicated", Value: "infra", Effect: corev1.TaintEffectNoSchedule},
			{Key: "nodewright.dev/unregistered", Effect: corev1.TaintEffectNoExecute},
		},
		capacity: map[corev1.ResourceName]string{"cpu": "2", "memory": "7577Mi", "pods": "58", "ephemeral-storage": "20Gi"},
		// 7577 - (11*58+255) - 100
		allocatable: map[corev1.ResourceName]string{"cpu": "1930m", "memory": "6584Mi", "pods": "58", "ephemeral-storage": "20Gi"},
	}}
	for _, c := range cases {
		node, err := cs.CoreV1().Nodes().Get(ctx, c.in.PrivateDNS, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if want := "aws:///" + c.in.Zone + "/" + c.in.ID; node.Spec.ProviderID != want {
			t.Errorf("%s providerID = %q, want %q", node.Name, node.Spec.ProviderID, want)
		}
		wantLabels := map[string]string{
			"kubernetes.io/hostname": node.Name, "kubernetes.io/os": "linux", "kubernetes.io/arch": c.arch,
			"node.kubernetes.io/instance-type": c.in.Type, "topology.kubernetes.io/zone": c.in.Zone,
			"topology.kubernetes.io/region": "us-east-1",
			// The deprecated keys kubelet and the cloud node controller set too.
			"beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": c.arch, "beta.kubernetes.io/instance-type": c.in.Type,
			"failure-domain.beta.kubernetes.io/zone": c.in.Zone, "failure-domain.beta.kubernetes.io/region": "us-east-1",
		}
		for k, v := range c.labels {
			wantLabels[k] = v
		}
		if !reflect.DeepEqual(node.Labels, wantLabels) {
			t.Errorf("%s labels = %v\nwant %v", node.Name, node.Labels, wantLabels)
		}
		if node.Annotations[nodeagent.KwokNodeAnnotation] != "fake" {
			t.Errorf("%s annotations = %v", node.Name, node.Annotations)
		}
		var taints []corev1.Taint
		for _, tn := range node.Spec.Taints {
			// The node controller adds not-ready/unreachable taints of its own.
			if !strings.HasPrefix(tn.Key, "node.kubernetes.io/") {
				taints = append(taints, corev1.Taint{Key: tn.Key, Value: tn.Value, Effect: tn.Effect})
			}
		}
		if !reflect.DeepEqual(taints, c.taints) {
			t.Errorf("%s taints = %v, want %v", node.Name, taints, c.taints)
		}
		expectList(t, node.Name+" capacity", node.Status.Capacity, c.capacity)
		expectList(t, node.Name+" allocatable", node.Status.Allocatable, c.allocatable)
		wantAddrs := []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: c.in.PrivateIP},
			{Type: corev1.NodeInternalDNS, Address: node.Name},
			{Type: corev1.NodeHostName, Address: node.Name},
		}
		if !reflect.DeepEqual(node.Status.Addresses, wantAddrs) {
			t.Errorf("%s addresses = %v, want %v", node.Name, node.Status.Addresses, wantAddrs)
		}
		if ni := node.Status.NodeInfo; ni.KubeletVersion != "v1.37.2" || ni.Architecture != c.arch || ni.OperatingSystem != "linux" {
			t.Errorf("%s nodeInfo = %+v", node.Name, ni)
		}
	}

	// kwok takes the nodes over: Ready, with our capacity intact.
	for _, name := range []string{alName, brName} {
		deadline := time.Now().Add(20 * time.Second)
		for {
			node, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ready(node) {
				if pods := node.Status.Allocatable[corev1.ResourcePods]; pods.Value() > 100 {
					t.Errorf("%s allocatable pods %s after kwok: kwok's defaults replaced ours", name, pods.String())
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s never became Ready: %+v", name, node.Status.Conditions)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	registered := logs.events(t, "registered node")
	if len(registered) != 3 {
		t.Errorf("%d \"registered node\" lines, want 3: %v", len(registered), registered)
	}
	for _, e := range registered {
		if e["node"] == nil || e["instance"] == nil || e["type"] == nil || e["zone"] == nil {
			t.Errorf("registered node line lacks a field: %v", e)
		}
	}
	never := map[string]string{}
	for _, e := range logs.events(t, "instance never joins") {
		id, _ := e["instance"].(string)
		if _, dup := never[id]; dup {
			t.Errorf("never-join logged twice for %s", id)
		}
		never[id], _ = e["reason"].(string)
	}
	for id, want := range map[string]string{garbage.ID: "", broken.ID: "NeverJoin", otherCluster.ID: `cluster "prod"`} {
		reason, ok := never[id]
		if !ok || !strings.Contains(reason, want) {
			t.Errorf("never-join reason for %s = %q (logged %v), want one mentioning %q", id, reason, ok, want)
		}
	}
	if len(never) != 3 {
		t.Errorf("never-join logged for %v, want exactly the 3 broken instances", never)
	}
	if got := agent.NeverJoins(); len(got) != 3 {
		t.Errorf("NeverJoins() = %v", got)
	}

	// Termination deletes the node; the others stay.
	emu.Do(func(w *awsemu.World) {
		w.EC2.Instances[al2023.ID].State = "terminated"
		// Launched just now and seen running now: it must wait out the boot delay.
		w.EC2.Instances[pending.ID].State = "running"
		w.EC2.Instances[pending.ID].LaunchTime = clk.Now()
	})
	if err := agent.Sync(ctx); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if _, err := cs.CoreV1().Nodes().Get(ctx, alName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("node of terminated instance: err = %v, want NotFound", err)
	}
	if got, want := nodeNames(), map[string]bool{"system": true, "other-cloud": true, "other-world": true, brName: true, veteran.PrivateDNS: true}; !reflect.DeepEqual(got, want) {
		t.Errorf("nodes after termination = %v, want %v", got, want)
	}
	deleted := logs.events(t, "deleted node")
	if len(deleted) != 2 || deleted[0]["node"] != "stale" || deleted[1]["node"] != alName {
		t.Errorf("deleted node lines = %v, want stale then %s", deleted, alName)
	}

	// The instance that just reached running joins after its boot delay,
	// measured from when it was first seen running.
	clk.Step(time.Second)
	if err := agent.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if nodeNames()[pending.PrivateDNS] {
		t.Errorf("node %s registered before its boot delay", pending.PrivateDNS)
	}
	clk.Step(time.Second)
	if err := agent.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !nodeNames()[pending.PrivateDNS] {
		t.Errorf("node %s not registered after its boot delay", pending.PrivateDNS)
	}
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
