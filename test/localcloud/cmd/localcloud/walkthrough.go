package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

var nodeClaimGVR = schema.GroupVersionResource{Group: "nodewright.dev", Version: "v1", Resource: "nodeclaims"}

// walkthrough replays the seed walkthrough against a running local cloud
// whose controller Terraform deployed: inflate 0 -> 10 -> deleted, with
// live output, then the controller's own log lines.
func walkthrough(dir string, args []string) error {
	fs := flag.NewFlagSet("walkthrough", flag.ExitOnError)
	replicas := fs.Int("replicas", 10, "pods to scale inflate to")
	timeout := fs.Duration("timeout", 3*time.Minute, "give up after this long per phase")
	_ = fs.Parse(args)

	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "kubeconfig"))
	if err != nil {
		return fmt.Errorf("loading the local cloud's kubeconfig (is it up?): %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	w := &walker{cs: cs, dyn: dyn, dir: dir, start: time.Now()}

	fmt.Println("==> applying deployment inflate (pause image, 1 CPU each) with 0 replicas")
	labels := map[string]string{"app": "inflate"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "inflate", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](0),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](0),
					Containers: []corev1.Container{{Name: "inflate", Image: "registry.k8s.io/pause:3.10",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}},
				},
			},
		},
	}
	if err := w.waitFor(ctx, *timeout, "the default service account", func() (bool, string) {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, ""
	}); err != nil {
		return err
	}
	_ = cs.AppsV1().Deployments("default").Delete(ctx, "inflate", metav1.DeleteOptions{})
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating inflate: %w", err)
	}

	fmt.Printf("==> scaling inflate to %d\n", *replicas)
	start := time.Now()
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, *replicas))
	if _, err := cs.AppsV1().Deployments("default").Patch(ctx, "inflate", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("scaling inflate: %w", err)
	}
	if err := w.waitFor(ctx, *timeout, "inflate pods Running", func() (bool, string) {
		running, total := w.pods(ctx)
		return running == *replicas, fmt.Sprintf("%d/%d pods Running", running, total)
	}); err != nil {
		return err
	}
	fmt.Printf("==> %d pods Running %s after scaling up\n", *replicas, time.Since(start).Round(100*time.Millisecond))
	w.printNodes(ctx)

	fmt.Println("==> deleting inflate: empty nodes go after the NodePool's consolidateAfter")
	start = time.Now()
	if err := cs.AppsV1().Deployments("default").Delete(ctx, "inflate", metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if err := w.waitFor(ctx, *timeout, "nodes removed", func() (bool, string) {
		claims := w.nodeClaims(ctx)
		return len(claims) == 0, fmt.Sprintf("%d nodeclaims left", len(claims))
	}); err != nil {
		return err
	}
	fmt.Printf("==> nodes removed %s after the deployment was deleted\n", time.Since(start).Round(100*time.Millisecond))
	w.printControllerLog()
	return nil
}

type walker struct {
	cs  *kubernetes.Clientset
	dyn dynamic.Interface
	dir string
	// start: log files outlive controller pods and earlier demos, so only
	// lines from this walkthrough on are shown.
	start time.Time
}

func (w *walker) waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, string)) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, progress := cond()
		if progress != "" && progress != last {
			fmt.Printf("    %s  %s\n", time.Now().Format("15:04:05"), progress)
			last = progress
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s (%s); see `bin/localcloud status` and the controller log in %s", what, timeout, progress, filepath.Join(w.dir, "podruntime"))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (w *walker) pods(ctx context.Context) (running, total int) {
	pods, err := w.cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=inflate"})
	if err != nil {
		return 0, 0
	}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning {
			running++
		}
	}
	return running, len(pods.Items)
}

func (w *walker) nodeClaims(ctx context.Context) []unstructured.Unstructured {
	list, err := w.dyn.Resource(nodeClaimGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	return list.Items
}

// printNodes shows each NodeClaim with its node and offering, and the
// plan's true cost of it (instance, root volume, per-node overhead and burst
// surplus, from the controller's "created nodeclaim" log line) beside the
// instance's own price (from "launched instance": the fleet may have
// launched another of the claim's options).
func (w *walker) printNodes(ctx context.Context) {
	prices, costs := map[string]float64{}, map[string]float64{}
	for _, l := range w.logLines("launched instance") {
		prices[fmt.Sprint(l["nodeclaim"])], _ = l["price"].(float64)
	}
	for _, l := range w.logLines("created nodeclaim") {
		costs[fmt.Sprint(l["nodeclaim"])], _ = l["cost"].(float64)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    NODECLAIM\tNODE\tTYPE\tZONE\tCAPACITY\tINSTANCE $/H\tPLANNED TRUE $/H")
	var price, cost float64
	for _, nc := range w.nodeClaims(ctx) {
		l := nc.GetLabels()
		node, _, _ := unstructured.NestedString(nc.Object, "status", "nodeName")
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%.4f\t%.4f\n", nc.GetName(), node, l["node.kubernetes.io/instance-type"],
			l["topology.kubernetes.io/zone"], l["nodewright.dev/capacity-type"], prices[nc.GetName()], costs[nc.GetName()])
		price += prices[nc.GetName()]
		cost += costs[nc.GetName()]
	}
	fmt.Fprintf(tw, "    total\t\t\t\t\t%.4f\t%.4f\n", price, cost)
	tw.Flush()
}

// logLines reads the controller's JSON log lines with one of the given
// msgs, logged since the walkthrough started, from the process runtime's
// log files, oldest first.
func (w *walker) logLines(msgs ...string) []map[string]any {
	files, _ := filepath.Glob(filepath.Join(w.dir, "podruntime", "pods", "*nodewright*.log"))
	sort.Strings(files)
	var out []map[string]any
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil || !slices.Contains(msgs, fmt.Sprint(m["msg"])) {
				continue
			}
			if t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(m["time"])); err == nil && t.Before(w.start) {
				continue
			}
			out = append(out, m)
		}
		fh.Close()
	}
	// RFC 3339 times in UTC sort as strings.
	sort.SliceStable(out, func(i, j int) bool { return fmt.Sprint(out[i]["time"]) < fmt.Sprint(out[j]["time"]) })
	return out
}

func (w *walker) printControllerLog() {
	fmt.Println("==> the controller's own log lines for this walkthrough")
	for _, l := range w.logLines("created nodeclaim", "launched instance", "registered node", "initialized", "disrupting nodes", "deleted node", "terminated instance") {
		delete(l, "caller")
		b, _ := json.Marshal(l)
		fmt.Println("    " + strings.TrimSpace(string(b)))
	}
}
