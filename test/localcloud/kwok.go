package localcloud

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat-with-lease"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

// KwokNodeAnnotation marks the nodes kwok manages (value "fake"): it makes
// them Ready, keeps their leases fresh, and runs the pods bound to them.
const KwokNodeAnnotation = "kwok.x-k8s.io/node"

// FaultAnnotation on a Node injects a node fault; FaultNotReady is its one
// value so far: the node's kubelet stops reporting, and its Ready
// condition turns Unknown, as the node lifecycle controller sets it for a
// kubelet that went silent. Removing the annotation lets kwok's own
// stages make the node Ready again.
const (
	FaultAnnotation = "localcloud.nodewright.dev/fault"
	FaultNotReady   = "not-ready"
)

// notReadyStage turns a faulted node's Ready condition Unknown once (it
// stops matching then), keeping its other conditions.
const notReadyStage = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: localcloud-node-not-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.metadata.annotations["` + FaultAnnotation + `"]'
      operator: 'In'
      values:
      - '` + FaultNotReady + `'
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values:
      - 'Unknown'
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range .status.conditions }}
      {{ if eq .type "Ready" }}
      - lastHeartbeatTime: {{ .lastHeartbeatTime | Quote }}
        lastTransitionTime: {{ $now | Quote }}
        message: "Kubelet stopped posting node status (localcloud fault not-ready)."
        reason: NodeStatusUnknown
        status: "Unknown"
        type: Ready
      {{ else }}
      - lastHeartbeatTime: {{ .lastHeartbeatTime | Quote }}
        lastTransitionTime: {{ .lastTransitionTime | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
      {{ end }}
`

// notFaulted is a selector expression kwok's node stages get, so that they
// neither heartbeat a faulted node nor make it Ready again.
const notFaulted = `    matchExpressions:
    - key: '.metadata.annotations["` + FaultAnnotation + `"]'
      operator: 'NotIn'
      values:
      - '` + FaultNotReady + `'
`

// writeKwokStages writes kwok's own "fast" stages, taken from the kwok
// module at the version we build, so the lifecycle we simulate is exactly
// upstream's; the node stages skip nodes under the not-ready fault, which
// has a stage of its own.
func writeKwokStages(dir string) (string, error) {
	stages := []string{
		nodefast.DefaultNodeInit,
		nodeheartbeat.DefaultNodeHeartbeatWithLease,
		podfast.DefaultPodReady,
		podfast.DefaultPodComplete,
		podfast.DefaultPodDelete,
		notReadyStage,
	}
	for i, s := range stages {
		if i < 2 {
			if !strings.Contains(s, "    matchExpressions:\n") {
				return "", fmt.Errorf("kwok node stage %d has no selector to extend", i)
			}
			s = strings.Replace(s, "    matchExpressions:\n", notFaulted, 1)
		}
		stages[i] = strings.TrimSpace(s)
	}
	path := filepath.Join(dir, "kwok-stages.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(stages, "\n---\n")+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("writing kwok stages: %w", err)
	}
	return path, nil
}

// InjectNodeNotReady puts node under the not-ready fault (see
// FaultNotReady), or takes it off with clear.
func (c *Cloud) InjectNodeNotReady(ctx context.Context, node string, clear bool) error {
	return injectNodeNotReady(ctx, c.RESTConfig, node, clear)
}

// InjectNodeNotReady is Cloud.InjectNodeNotReady for the cloud whose state
// is in dir.
func InjectNodeNotReady(ctx context.Context, dir, node string, clear bool) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "kubeconfig"))
	if err != nil {
		return fmt.Errorf("localcloud: loading the admin kubeconfig in %s: %w", dir, err)
	}
	return injectNodeNotReady(ctx, cfg, node, clear)
}

func injectNodeNotReady(ctx context.Context, cfg *rest.Config, node string, clear bool) error {
	if node == "" {
		return fmt.Errorf("inject not-ready needs a node name")
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	value := `"` + FaultNotReady + `"`
	if clear {
		value = "null"
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, FaultAnnotation, value)
	if _, err := cs.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("annotating node %s with %s: %w", node, FaultAnnotation, err)
	}
	return nil
}
