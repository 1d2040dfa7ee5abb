package migrate

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/nodewright/nodewright/controller/convert"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
)

// karpenterCluster is a local cloud with nodewright's CRDs and Karpenter's
// own (v1.15, from bin/karpenter-crds as its chart installs them).
type karpenterCluster struct {
	env  *test.Env
	disc discovery.DiscoveryInterface
	dyn  dynamic.Interface
}

func newKarpenterCluster(t *testing.T) *karpenterCluster {
	t.Helper()
	bin := os.Getenv("NODEWRIGHT_BIN_DIR")
	crds := filepath.Join(bin, "karpenter-crds")
	if _, err := os.Stat(crds); err != nil {
		t.Fatalf("Karpenter's CRDs are built with the Karpenter controller (make test builds it): %v", err)
	}
	env := test.Start(t)
	if out, err := exec.Command(filepath.Join(bin, "kubectl"), "--kubeconfig", env.Cloud.Kubeconfig, "apply", "--server-side", "-f", crds).CombinedOutput(); err != nil {
		t.Fatalf("applying Karpenter's CRDs: %v\n%s", err, out)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(env.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(env.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	return &karpenterCluster{env: env, disc: disc, dyn: dyn}
}

// create makes an object from YAML once its CRD serves.
func (k *karpenterCluster) create(t *testing.T, gvr schema.GroupVersionResource, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	var out *unstructured.Unstructured
	var err error
	expectations.Eventually(t, time.Minute, "Karpenter's CRDs to serve "+gvr.Resource, func() bool {
		out, err = k.dyn.Resource(gvr).Create(context.Background(), u, metav1.CreateOptions{})
		return err == nil
	})
	return out
}

var (
	nodepools = schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodepools"}
	classes   = schema.GroupVersionResource{Group: "karpenter.k8s.aws", Version: "v1", Resource: "ec2nodeclasses"}
	claims    = schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodeclaims"}
)

const karpenterClass = `apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata: {name: default}
spec:
  amiSelectorTerms: [{alias: al2023@latest}]
  role: KarpenterNodeRole-prod
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: prod}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: prod}}]
`

const karpenterPool = `apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: general}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
      - {key: karpenter.sh/capacity-type, operator: In, values: [spot]}
      - {key: karpenter.k8s.aws/instance-category, operator: In, values: [c, m]}
  disruption: {consolidationPolicy: WhenEmpty, consolidateAfter: 30s}
`

// TestReadsAKarpenterCluster: on a local cloud with Karpenter's CRDs and a
// NodePool, an EC2NodeClass and a NodeClaim of its, migrate converts the
// objects, lists the node, and orders the cut-over.
func TestReadsAKarpenterCluster(t *testing.T) {
	k := newKarpenterCluster(t)
	ctx := context.Background()
	disc, dyn := k.disc, k.dyn
	k.create(t, classes, karpenterClass)
	k.create(t, nodepools, karpenterPool)
	nc := k.create(t, claims, `apiVersion: karpenter.sh/v1
kind: NodeClaim
metadata:
  name: general-abcde
  labels: {karpenter.sh/nodepool: general, karpenter.sh/capacity-type: spot, node.kubernetes.io/instance-type: c6a.large, topology.kubernetes.io/zone: us-east-1a}
spec:
  nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
  requirements:
  - {key: karpenter.sh/capacity-type, operator: In, values: [spot]}
`)
	if err := unstructured.SetNestedField(nc.Object, "ip-10-0-0-1.ec2.internal", "status", "nodeName"); err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(claims).UpdateStatus(ctx, nc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	rep, err := Read(ctx, disc, dyn, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Conversion.NodePools) != 1 || len(rep.Conversion.NodeClasses) != 1 || rep.Conversion.Lossy() {
		t.Fatalf("converted %d pools and %d classes, findings %v", len(rep.Conversion.NodePools), len(rep.Conversion.NodeClasses), rep.Conversion.Findings)
	}
	np := rep.Conversion.NodePools[0]
	if np.Name != "general" || np.Spec.Template.Spec.Requirements[0].Key != "nodewright.dev/capacity-type" || np.Spec.Disruption.ConsolidateAfter != "30s" {
		t.Errorf("pool %+v", np.Spec)
	}
	if got := strings.Join(rep.Read, ", "); !strings.Contains(got, "nodepools.karpenter.sh/v1 (1)") || !strings.Contains(got, "ec2nodeclasses.karpenter.k8s.aws/v1 (1)") {
		t.Errorf("read %s", got)
	}
	if len(rep.Machines) != 1 || rep.Machines[0].Node != "ip-10-0-0-1.ec2.internal" || rep.Machines[0].Pool != "general" || rep.Machines[0].CapacityType != "spot" {
		t.Errorf("machines %+v", rep.Machines)
	}
	steps := strings.Join(rep.Steps(), "\n")
	for _, want := range []string{"limits to zero", "terraform apply", "Verify", "kubectl delete nodepools.karpenter.sh general", "uninstall"} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps lack %q:\n%s", want, steps)
		}
	}
	if i, j := strings.Index(steps, "terraform apply"), strings.Index(steps, "kubectl delete nodepools"); i > j {
		t.Errorf("Karpenter's pools are deleted before nodewright's are applied:\n%s", steps)
	}
}
