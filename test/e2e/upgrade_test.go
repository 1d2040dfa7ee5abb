package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	ggcrv1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/gruntwork-io/terratest/modules/terraform"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/crds"
	"github.com/nodewright/nodewright/test/image"
	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/release"
)

// upgradeConfig is the bundle with two controller replicas and a default
// NodePool whose nodes stay put (no consolidation during the test). On the
// local cloud the system node's pods share one network, so the two
// replicas, and the surge pod of a rollout, run without listening ports.
const upgradeConfig = `terraform {
  required_providers {
    nodewright = {
      source = "nodewright/nodewright"
    }
  }
}

variable "kubeconfig" {
  type = string
}

variable "cluster_name" {
  type = string
}

variable "controller_image" {
  type = string
}

provider "nodewright" {
  kubernetes {
    config_path = var.kubeconfig
  }
}

module "nodewright" {
  source = "../modules/nodewright"

  cluster_name                 = var.cluster_name
  controller_image             = var.controller_image
  controller_replicas          = 2
  controller_metrics_port      = 0
  controller_health_probe_port = 0
}

module "default_pool" {
  source = "../modules/node-pool"

  name              = "default"
  cluster_name      = var.cluster_name
  node_role_name    = module.nodewright.node_role_name
  consolidate_after = "Never"

  depends_on = [module.nodewright]
}
`

// upgradeVersion stamps the second controller build the test upgrades to.
const upgradeVersion = "0.1.0-upgrade"

// upgradeImages returns the controller image the test installs (the one
// the local cloud pushed from bin/image) and the one it upgrades to: a
// second build of the controller, stamped with another version, made into
// an image for this machine's platform and pushed to the local registry.
func upgradeImages(t *testing.T, root string, cloud *localcloud.Cloud) (old, new string) {
	t.Helper()
	old = pushedControllerImage(t, cloud)
	work := t.TempDir()
	bin := filepath.Join(work, "nodewright")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+upgradeVersion, "-o", bin, "./controller/cmd/nodewright")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the upgrade controller: %v\n%s", err, out)
	}
	idx, err := image.Build(image.Options{Version: upgradeVersion, Revision: "upgrade-test", Created: time.Unix(0, 0),
		Binaries: []image.Binary{{Platform: ggcrv1.Platform{OS: "linux", Architecture: runtime.GOARCH}, Path: bin}}})
	if err != nil {
		t.Fatal(err)
	}
	layout := filepath.Join(work, "image")
	if _, err := image.WriteLayout(layout, idx, upgradeVersion); err != nil {
		t.Fatal(err)
	}
	if new, err = cloud.PushLayout(context.Background(), layout, "nodewright/nodewright", upgradeVersion); err != nil {
		t.Fatal(err)
	}
	if new == old {
		t.Fatalf("the upgrade image %s is the installed one", new)
	}
	return old, new
}

// TestUpgradeRollsController installs the bundle with one controller image,
// lets it launch nodes for a workload, then applies a new image: the
// rollout keeps a ready controller throughout, no NodeClaim is replaced or
// deleted, and the CRDs are served afterwards.
func TestUpgradeRollsController(t *testing.T) {
	if testing.Short() {
		t.Skip("applies the bundle to a local cloud twice")
	}
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tfBin := release.TerraformBinary(t)
	cloud := localcloud.Start(t)
	ctx := context.Background()
	oldImage, newImage := upgradeImages(t, root, cloud)

	dir := t.TempDir()
	copyTree(t, filepath.Join(root, "modules"), filepath.Join(dir, "modules"))
	if err := os.MkdirAll(filepath.Join(dir, "upgrade"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "upgrade", "main.tf"), []byte(upgradeConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := cloudOptions(t, cloud, filepath.Join(dir, "upgrade"), tfBin, oldImage)
	t.Cleanup(func() {
		if t.Failed() {
			logControllerTail(t, cloud)
		}
		terraform.Destroy(t, opts)
	})

	// 1. Install the old image: both replicas schedule on the one system
	// node, hardened.
	start := time.Now()
	terraform.InitAndApply(t, opts)
	t.Logf("install took %s", time.Since(start).Round(100*time.Millisecond))
	kube, cs := clusterClients(t, cloud)
	assertHardenedController(t, cs, hardening{replicas: 2})

	// 2. A workload the controller launches nodes for.
	deployPause(t, cs, "inflate", 3)
	waitInflateRunning(t, cs, 3, 60*time.Second)
	var before v1.NodeClaimList
	if err := kube.List(ctx, &before); err != nil || len(before.Items) == 0 {
		t.Fatalf("no NodeClaims for the workload (err=%v)", err)
	}
	claims := map[string]types.UID{}
	for _, c := range before.Items {
		claims[c.Name] = c.UID
	}

	// 3. Upgrade, watching the Deployment's ready replicas throughout. The
	// CRDs on the cluster first get a schema this provider does not ship,
	// as an older provider's would be, so the apply must update them too.
	markCRDsStale(t, kube)
	watch := watchReadyReplicas(t, cs)
	opts.Vars["controller_image"] = newImage
	start = time.Now()
	terraform.Apply(t, opts)
	t.Logf("upgrade apply took %s", time.Since(start).Round(100*time.Millisecond))
	minReady, events, images := watch(newImage)
	t.Logf("rollout: %d Deployment updates seen, fewest ready replicas %d", events, minReady)
	if minReady < 1 {
		t.Errorf("the rollout left %d ready controller replicas at one point, want at least 1", minReady)
	}
	if !images[oldImage] || !images[newImage] {
		t.Errorf("the watch did not see the rollout from %s to %s: images %v", oldImage, newImage, images)
	}
	dep, err := cs.AppsV1().Deployments(controllerNamespace).Get(ctx, controllerDeployment, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := dep.Spec.Template.Spec.Containers[0].Image; img != newImage || dep.Status.UpdatedReplicas != 2 || dep.Status.ReadyReplicas != 2 {
		t.Errorf("after the upgrade: image %s, %d updated and %d ready replicas", img, dep.Status.UpdatedReplicas, dep.Status.ReadyReplicas)
	}
	assertHardenedController(t, cs, hardening{replicas: 2})
	assertControllersRun(t, cs, newImage)
	if code := terraform.PlanExitCode(t, opts); code != 0 {
		t.Errorf("plan after the upgrade is not empty (exit code %d)", code)
	}

	// 4. Every NodeClaim is kept: the new controller adopts them. Give it
	// time to act on them, as it would on a wrong idea of their state.
	time.Sleep(10 * time.Second)
	var after v1.NodeClaimList
	if err := kube.List(ctx, &after); err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, c := range after.Items {
		uid, existed := claims[c.Name]
		switch {
		case !existed:
			t.Errorf("NodeClaim %s appeared after the upgrade", c.Name)
		case uid != c.UID:
			t.Errorf("NodeClaim %s was replaced (uid %s, was %s)", c.Name, c.UID, uid)
		case c.DeletionTimestamp != nil:
			t.Errorf("NodeClaim %s is being deleted after the upgrade", c.Name)
		default:
			kept++
		}
	}
	if kept != len(claims) {
		t.Errorf("%d of %d NodeClaims kept across the upgrade", kept, len(claims))
	}

	// 5. The CRDs are established and served after the upgrade.
	assertCRDsServed(t, kube)

	// 6. Destroy (in Cleanup) takes the nodes with it.
	if err := cs.AppsV1().Deployments("default").Delete(ctx, "inflate", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// watchReadyReplicas follows the controller Deployment until the returned
// function is called and has seen the rollout of image complete (or 10
// seconds passed); it reports the fewest ready replicas any version of the
// Deployment had, how many versions it saw, and the images of versions
// whose replicas were all updated and ready. Every version the apiserver
// writes reaches a watch, so a dip cannot fall between two polls.
func watchReadyReplicas(t *testing.T, cs kubernetes.Interface) func(image string) (minReady int32, events int, images map[string]bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dep, err := cs.AppsV1().Deployments(controllerNamespace).Get(ctx, controllerDeployment, metav1.GetOptions{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var mu sync.Mutex // guards minReady, events, images and ended
	minReady, events, images := dep.Status.ReadyReplicas, 0, map[string]bool{}
	ended := false // the apiserver closed the watch: versions may be missing
	observe := func(d *appsv1.Deployment) {
		mu.Lock()
		defer mu.Unlock()
		events++
		minReady = min(minReady, d.Status.ReadyReplicas)
		if d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == *d.Spec.Replicas && d.Status.ReadyReplicas == *d.Spec.Replicas {
			images[d.Spec.Template.Spec.Containers[0].Image] = true
		}
	}
	observe(dep)
	w, err := cs.AppsV1().Deployments(controllerNamespace).Watch(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", controllerDeployment).String(), ResourceVersion: dep.ResourceVersion})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			if d, ok := ev.Object.(*appsv1.Deployment); ok {
				observe(d)
			}
		}
		mu.Lock()
		ended = true
		mu.Unlock()
	}()
	return func(image string) (int32, int, map[string]bool) {
		// terraform apply returned once it read the finished rollout; the
		// watch may deliver that version a moment later.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			mu.Lock()
			seen := images[image]
			mu.Unlock()
			if seen {
				break
			}
		}
		mu.Lock()
		if ended {
			t.Error("the Deployment watch ended before the rollout finished: ready replicas may have dipped unseen")
		}
		mu.Unlock()
		w.Stop()
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return minReady, events, images
	}
}

// assertCRDsServed checks each CRD the provider installs is Established
// and its resources can be listed.
// staleDescription marks a CRD schema as not this provider's.
const staleDescription = "schema of an older provider (upgrade test)"

// markCRDsStale rewrites the top-level description of each CRD's served
// schema, a change the apiserver accepts without touching stored objects.
func markCRDsStale(t *testing.T, kube client.Client) {
	t.Helper()
	for _, c := range liveCRDs(t, kube) {
		versions, _, _ := unstructured.NestedSlice(c.live.Object, "spec", "versions")
		for _, v := range versions {
			if err := unstructured.SetNestedField(v.(map[string]any), staleDescription, "schema", "openAPIV3Schema", "description"); err != nil {
				t.Fatal(err)
			}
		}
		if err := unstructured.SetNestedSlice(c.live.Object, versions, "spec", "versions"); err != nil {
			t.Fatal(err)
		}
		if err := kube.Update(context.Background(), c.live); err != nil {
			t.Fatalf("marking CRD %s stale: %v", c.live.GetName(), err)
		}
	}
}

// crdPair is a CRD this provider ships and the cluster's copy of it.
type crdPair struct{ shipped, live *unstructured.Unstructured }

func liveCRDs(t *testing.T, kube client.Client) []crdPair {
	t.Helper()
	objs, err := crds.Objects()
	if err != nil {
		t.Fatal(err)
	}
	pairs := make([]crdPair, 0, len(objs))
	for _, o := range objs {
		crd := &unstructured.Unstructured{}
		crd.SetGroupVersionKind(o.GroupVersionKind())
		if err := kube.Get(context.Background(), client.ObjectKey{Name: o.GetName()}, crd); err != nil {
			t.Fatalf("CRD %s: %v", o.GetName(), err)
		}
		pairs = append(pairs, crdPair{shipped: o, live: crd})
	}
	return pairs
}

// assertControllersRun checks that every controller pod runs image, as
// the system node reports it: the pod's image and the pulled digest.
func assertControllersRun(t *testing.T, cs kubernetes.Interface, image string) {
	t.Helper()
	_, digest, _ := strings.Cut(image, "@")
	pods, err := cs.CoreV1().Pods(controllerNamespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
			continue
		}
		running++
		for _, st := range p.Status.ContainerStatuses {
			if !strings.HasSuffix(st.ImageID, digest) || st.State.Running == nil {
				t.Errorf("controller pod %s: container %s runs %s (image id %s, running %v), want %s", p.Name, st.Name, st.Image, st.ImageID, st.State.Running != nil, image)
			}
		}
	}
	if running == 0 {
		t.Error("no controller pod is running after the upgrade")
	}
}

func assertCRDsServed(t *testing.T, kube client.Client) {
	t.Helper()
	ctx := context.Background()
	for _, c := range liveCRDs(t, kube) {
		name := c.live.GetName()
		established := false
		conds, _, _ := unstructured.NestedSlice(c.live.Object, "status", "conditions")
		for _, cond := range conds {
			m, _ := cond.(map[string]any)
			established = established || (m["type"] == "Established" && m["status"] == "True")
		}
		if !established {
			t.Errorf("CRD %s is not Established: %v", name, conds)
		}
		// The served schema is the one this provider ships.
		want, _, _ := unstructured.NestedSlice(c.shipped.Object, "spec", "versions")
		got, _, _ := unstructured.NestedSlice(c.live.Object, "spec", "versions")
		for i := range min(len(want), len(got)) {
			w, _, _ := unstructured.NestedString(want[i].(map[string]any), "schema", "openAPIV3Schema", "description")
			g, _, _ := unstructured.NestedString(got[i].(map[string]any), "schema", "openAPIV3Schema", "description")
			if g != w {
				t.Errorf("CRD %s version %d serves the schema described %q, want this provider's %q", name, i, g, w)
			}
		}
	}
	for _, l := range []client.ObjectList{&v1.NodePoolList{}, &v1.NodeClaimList{}, &v1.EC2NodeClassList{}} {
		if err := kube.List(ctx, l); err != nil {
			t.Errorf("listing %T after the upgrade: %v", l, err)
		}
	}
}
