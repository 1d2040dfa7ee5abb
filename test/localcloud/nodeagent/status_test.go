package nodeagent_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
	"github.com/nodewright/nodewright/test/localcloud/nodeagent"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestAgentWritesStatusWhenCreateDropsIt covers API servers that ignore
// status on create: the agent writes it through the status subresource,
// and retries on a later pass when that fails.
func TestAgentWritesStatusWhenCreateDropsIt(t *testing.T) {
	emu := awsemu.NewForTest(t, awsemu.Options{})
	cs := fake.NewClientset()
	cs.PrependReactor("create", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		a.(k8stesting.CreateAction).GetObject().(*corev1.Node).Status = corev1.NodeStatus{}
		return false, nil, nil
	})
	statusUpdates := 0
	cs.PrependReactor("update", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "status" {
			return false, nil, nil
		}
		statusUpdates++
		if statusUpdates == 1 {
			return true, nil, errors.New("injected failure")
		}
		return false, nil, nil
	})
	agent, err := nodeagent.New(nodeagent.Config{Emulator: emu, Client: cs})
	if err != nil {
		t.Fatal(err)
	}
	emu.Do(func(w *awsemu.World) {
		w.EC2.Instances["i-0123456789abcdef0"] = &awsemu.Instance{
			ID: "i-0123456789abcdef0", Type: "m5.large", Zone: "us-east-1a", State: "running",
			LaunchTime: time.Now().Add(-time.Minute), PrivateIP: "10.0.0.5",
			UserData: b64(nodeadmMIME("localcloud", "https://127.0.0.1:6443", nodeadmKubelet)),
		}
	})
	ctx := context.Background()
	if err := agent.Sync(ctx); err == nil {
		t.Fatal("first Sync hid the failed status update")
	}
	// The Node name falls back to EC2's default hostname for the IP.
	node, err := cs.CoreV1().Nodes().Get(ctx, "ip-10-0-0-5.ec2.internal", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(node.Status.Capacity) != 0 {
		t.Fatalf("status survived create: %v", node.Status.Capacity)
	}
	if err := agent.Sync(ctx); err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	node, err = cs.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expectList(t, "capacity", node.Status.Capacity, map[corev1.ResourceName]string{
		"cpu": "2", "memory": "7577Mi", "pods": "20", "ephemeral-storage": "20Gi",
	})
	if node.Status.NodeInfo.KubeletVersion != nodeagent.KubeletVersion {
		t.Errorf("nodeInfo = %+v", node.Status.NodeInfo)
	}
	if statusUpdates != 2 {
		t.Errorf("%d status updates, want 2 (one failed, one retried)", statusUpdates)
	}
	// Nothing left to do: a third pass writes nothing.
	if err := agent.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if statusUpdates != 2 {
		t.Errorf("%d status updates after an idle pass, want 2", statusUpdates)
	}
}

// TestAgentRun checks the loop: a booted instance joins within a few ticks
// and Run returns when its context ends.
func TestAgentRun(t *testing.T) {
	emu := awsemu.NewForTest(t, awsemu.Options{})
	cs := fake.NewClientset()
	agent, err := nodeagent.New(nodeagent.Config{Emulator: emu, Client: cs, BootDelay: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.Run(ctx) }()
	emu.Do(func(w *awsemu.World) {
		w.EC2.Instances["i-0123456789abcdef1"] = &awsemu.Instance{
			ID: "i-0123456789abcdef1", Type: "t3.small", Zone: "us-east-1b", State: "running",
			LaunchTime: time.Now(), PrivateIP: "10.0.0.6", PrivateDNS: "ip-10-0-0-6.ec2.internal",
			UserData: b64(bottlerocketTOML("localcloud", "https://127.0.0.1:6443")),
		}
	})
	start := time.Now()
	for {
		if _, err := cs.CoreV1().Nodes().Get(ctx, "ip-10-0-0-6.ec2.internal", metav1.GetOptions{}); err == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatal("node never registered under Run")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The boot delay is honoured even though the instance is already running.
	if elapsed := time.Since(start); elapsed < 250*time.Millisecond {
		t.Errorf("node registered after %v, before the 300ms boot delay", elapsed)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
