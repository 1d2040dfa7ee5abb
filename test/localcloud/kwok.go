package localcloud

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

// KwokNodeAnnotation marks the nodes kwok manages (value "fake"): it makes
// them Ready, keeps their leases fresh, and runs the pods bound to them.
const KwokNodeAnnotation = "kwok.x-k8s.io/node"

// writeKwokStages writes kwok's own "fast" stages, taken from the kwok
// module at the version we build, so the lifecycle we simulate is exactly
// upstream's.
func writeKwokStages(dir string) (string, error) {
	stages := []string{
		nodefast.DefaultNodeInit,
		nodeheartbeat.DefaultNodeHeartbeatWithLease,
		podfast.DefaultPodReady,
		podfast.DefaultPodComplete,
		podfast.DefaultPodDelete,
	}
	for i, s := range stages {
		stages[i] = strings.TrimSpace(s)
	}
	path := filepath.Join(dir, "kwok-stages.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(stages, "\n---\n")+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("writing kwok stages: %w", err)
	}
	return path, nil
}
