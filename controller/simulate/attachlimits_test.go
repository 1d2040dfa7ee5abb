package simulate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// attachPools is one pool of m5.xlarge on-demand: 58 pods, 4 vCPU, and 27
// EBS attachments shared with its network interface (26 left for pods on
// a node that has only its root volume).
const attachPools = `apiVersion: nodewright.dev/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  amiSelectorTerms: [{alias: al2023@latest}]
  role: nodewright-node
  subnetSelectorTerms: [{tags: {nodewright.dev/discovery: my-cluster}}]
  securityGroupSelectorTerms: [{tags: {nodewright.dev/discovery: my-cluster}}]
---
apiVersion: nodewright.dev/v1
kind: NodePool
metadata: {name: default}
spec:
  template:
    spec:
      nodeClassRef: {group: nodewright.dev, kind: EC2NodeClass, name: default}
      requirements:
      - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.xlarge]}
      - {key: nodewright.dev/capacity-type, operator: In, values: [on-demand]}
`

// volumePods are n pods of 10m, each with its own claim on the EBS CSI
// driver's WaitForFirstConsumer class.
func volumePods(prefix string, n int) string {
	var b strings.Builder
	b.WriteString(`apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: gp3}
provisioner: ebs.csi.aws.com
volumeBindingMode: WaitForFirstConsumer
`)
	for i := range n {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: %[1]s-%[2]d}
spec: {accessModes: [ReadWriteOnce], storageClassName: gp3, resources: {requests: {storage: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: %[1]s-%[2]d}
spec:
  containers: [{name: app, image: app, resources: {requests: {cpu: 10m, memory: 16Mi}}}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: %[1]s-%[2]d}}]
`, prefix, i)
	}
	return b.String()
}

// TestAttachLimitsOnTheRealCatalog: 30 pods that each attach an EBS volume
// fit one m5.xlarge by CPU, memory and pods, but it attaches 26, so the
// plan takes two. An existing node takes volumes up to its CSINode's
// count and no further.
func TestAttachLimitsOnTheRealCatalog(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pools := write("pools.yaml", attachPools)
	plan := func(t *testing.T, opts Options) *Report {
		t.Helper()
		opts.NodePoolsFile, opts.At = pools, testAt
		in, err := Load(opts)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Run(in)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	t.Run("new nodes", func(t *testing.T) {
		rep := plan(t, Options{PodsFile: write("pods.yaml", volumePods("db", 30))})
		if len(rep.Unschedulable) != 0 || len(rep.NodeClaims) != 2 {
			t.Fatalf("want 2 claims for 30 volumes, got %d claims and unschedulable %+v", len(rep.NodeClaims), rep.Unschedulable)
		}
		for _, nc := range rep.NodeClaims {
			if len(nc.Pods) > 26 {
				t.Errorf("claim %s holds %d pods with a volume each; an m5.xlarge attaches 26", nc.InstanceType, len(nc.Pods))
			}
		}
		if rep := plan(t, Options{PodsFile: write("pods-26.yaml", volumePods("db", 26))}); len(rep.NodeClaims) != 1 {
			t.Errorf("26 volumes took %d claims, want 1", len(rep.NodeClaims))
		}
	})

	t.Run("an existing node's CSINode", func(t *testing.T) {
		node := `apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {node.kubernetes.io/instance-type: m5.xlarge, kubernetes.io/arch: amd64, kubernetes.io/os: linux, topology.kubernetes.io/zone: us-east-1a, kubernetes.io/hostname: n1}
status:
  allocatable: {cpu: 3920m, memory: 14Gi, pods: "58"}
`
		csiNode := `---
apiVersion: storage.k8s.io/v1
kind: CSINode
metadata: {name: n1}
spec:
  drivers: [{name: ebs.csi.aws.com, nodeID: i-1, allocatable: {count: 3}}]
`
		pods := write("few.yaml", volumePods("app", 5))
		onN1 := func(rep *Report) int {
			for _, e := range rep.ExistingNodes {
				if e.Name == "n1" {
					return len(e.Pods)
				}
			}
			return 0
		}
		if got := onN1(plan(t, Options{PodsFile: pods, NodesFile: write("node.yaml", node)})); got != 5 {
			t.Errorf("a node with no CSINode took %d of 5 pods with volumes, want all", got)
		}
		rep := plan(t, Options{PodsFile: pods, NodesFile: write("node-csi.yaml", node+csiNode)})
		if got := onN1(rep); got != 3 {
			t.Errorf("a node whose CSINode attaches 3 took %d pods with volumes, want 3", got)
		}
		if len(rep.NodeClaims) != 1 {
			t.Errorf("want one claim for the other 2, got %d", len(rep.NodeClaims))
		}
	})
}
