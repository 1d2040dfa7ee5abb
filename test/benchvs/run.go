package benchvs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// RunKarpenter runs the karpenterbench binary at binPath on in and returns
// Karpenter's plan. Cancelling ctx stops the binary (SIGTERM to its pid,
// SIGKILL five seconds later).
func RunKarpenter(ctx context.Context, binPath string, in scheduling.Input) (*Plan, error) {
	dir, err := os.MkdirTemp("", "benchvs-")
	if err != nil {
		return nil, fmt.Errorf("making a scratch directory: %w", err)
	}
	defer os.RemoveAll(dir)
	inPath, outPath := filepath.Join(dir, "input.json"), filepath.Join(dir, "plan.json")
	f, err := os.Create(inPath)
	if err != nil {
		return nil, fmt.Errorf("creating karpenterbench input: %w", err)
	}
	if err := WriteInput(f, in); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing karpenterbench input: %w", err)
	}
	return runBinary(ctx, binPath, inPath, outPath)
}

func runBinary(ctx context.Context, binPath, inPath, outPath string) (*Plan, error) {
	cmd := exec.CommandContext(ctx, binPath, "-in", inPath, "-out", outPath)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("karpenterbench stopped: %w", ctx.Err())
		}
		return nil, fmt.Errorf("running %s: %w: %s", binPath, err, strings.TrimSpace(stderr.String()))
	}
	raw, err := os.ReadFile(outPath)
	if err != nil {
		return nil, fmt.Errorf("reading karpenterbench's plan: %w", err)
	}
	var plan Plan
	if err := json.Unmarshal(raw, &plan); err != nil {
		return nil, fmt.Errorf("parsing karpenterbench's plan: %w", err)
	}
	return &plan, nil
}

// PodID is how plans name a pod: "namespace/name", the namespace
// defaulting as the API server defaults it.
func PodID(p *corev1.Pod) string {
	if p.Namespace == "" {
		return metav1.NamespaceDefault + "/" + p.Name
	}
	return p.Namespace + "/" + p.Name
}

// Check reports the first way plan is not a plan for in: every pod
// placed or refused exactly once, every claim from a known pool with
// options that pool may launch.
func Check(plan *Plan, in scheduling.Input) error {
	want := map[string]bool{}
	for _, p := range in.Pods {
		want[PodID(p)] = true
	}
	seen := map[string]bool{}
	see := func(id, where string) error {
		if !want[id] {
			return fmt.Errorf("%s has pod %s, which is not in the input", where, id)
		}
		if seen[id] {
			return fmt.Errorf("pod %s is placed twice (again in %s)", id, where)
		}
		seen[id] = true
		return nil
	}
	pools := map[string]map[string]bool{}
	for _, np := range in.NodePools {
		pools[np.Name] = map[string]bool{}
		for _, it := range np.InstanceTypes {
			pools[np.Name][it.Name] = true
		}
	}
	for i, nc := range plan.NodeClaims {
		types, ok := pools[nc.NodePool]
		if !ok {
			return fmt.Errorf("node claim %d is from unknown pool %q", i, nc.NodePool)
		}
		if len(nc.InstanceTypes) == 0 {
			return fmt.Errorf("node claim %d has no instance types", i)
		}
		for _, name := range nc.InstanceTypes {
			if !types[name] {
				return fmt.Errorf("node claim %d offers %s, which pool %s cannot launch", i, name, nc.NodePool)
			}
		}
		for _, id := range nc.Pods {
			if err := see(id, fmt.Sprintf("node claim %d", i)); err != nil {
				return err
			}
		}
	}
	for _, en := range plan.ExistingNodes {
		for _, id := range en.Pods {
			if err := see(id, "node "+en.Node); err != nil {
				return err
			}
		}
	}
	for _, u := range plan.Unschedulable {
		if err := see(u.Pod, "the unschedulable list"); err != nil {
			return err
		}
	}
	for id := range want {
		if !seen[id] {
			return fmt.Errorf("pod %s is neither placed nor reported unschedulable", id)
		}
	}
	return nil
}
