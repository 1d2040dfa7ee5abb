// Package e2e applies examples/local with Terraform against the local cloud
// and walks the seed scenario, with terratest.
// It runs terraform and the controller as real processes.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/gruntwork-io/terratest/modules/terraform"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/operator"
	"github.com/nodewright/nodewright/test/localcloud"
	"github.com/nodewright/nodewright/test/release"
)

func TestLocalExampleEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("applies examples/local to a local cloud")
	}
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tfBin := release.TerraformBinary(t)
	cloud := localcloud.Start(t)
	ctx := context.Background()

	dir, opts := localExample(t, root, cloud, tfBin)
	destroy := destroyOnce(t, opts)

	// 1. Apply the bundle and a default NodePool; a second plan is empty.
	start := time.Now()
	terraform.InitAndApply(t, opts)
	t.Logf("apply took %s", time.Since(start).Round(100*time.Millisecond))
	checkProviderLock(t, opts.TerraformDir)
	if code := terraform.PlanExitCode(t, opts); code != 0 {
		t.Errorf("plan after apply is not empty (exit code %d)", code)
	}

	kube, cs := clusterClients(t, cloud)

	// 2. The controller Deployment is available.
	poll(t, "controller available", 2*time.Minute, func() bool {
		d, err := cs.AppsV1().Deployments("nodewright").Get(ctx, "nodewright", metav1.GetOptions{})
		return err == nil && d.Status.AvailableReplicas >= 1
	})
	assertHardenedController(t, cs, hardening{replicas: 1, metricsPort: 8080})

	// 3. Inflate 0 -> 10: pods Running within the demo's promise.
	deployPause(t, cs, "inflate", 10)
	waitInflateRunning(t, cs, 10, 45*time.Second)
	var claims v1.NodeClaimList
	if err := kube.List(ctx, &claims); err != nil || len(claims.Items) == 0 {
		t.Fatalf("no NodeClaims for the inflate pods: %v", err)
	}
	checkControllerRole(t, cs, cloud, true)
	uids := map[string]bool{}
	for _, c := range claims.Items {
		uids[string(c.UID)] = true
	}

	// 5. Changing the NodePool's requirements is an in-place update, and no node is replaced.
	opts.Vars["extra_requirements"] = []map[string]any{{"key": "nodewright.dev/instance-hypervisor", "operator": "In", "values": []string{"nitro"}}}
	opts.PlanFilePath = filepath.Join(dir, "update.tfplan")
	plan := terraform.InitAndPlanAndShowWithStruct(t, opts)
	opts.PlanFilePath = ""
	for addr, rc := range plan.ResourceChangesMap {
		if strings.Contains(addr, "nodewright_node_pool") {
			if len(rc.Change.Actions) != 1 || string(rc.Change.Actions[0]) != "update" {
				t.Errorf("%s plans %v, want an in-place update", addr, rc.Change.Actions)
			}
		}
	}
	terraform.Apply(t, opts)
	var after v1.NodeClaimList
	if err := kube.List(ctx, &after); err != nil {
		t.Fatal(err)
	}
	for _, c := range after.Items {
		if !uids[string(c.UID)] {
			t.Errorf("NodeClaim %s appeared after an in-place NodePool update", c.Name)
		}
	}

	// 4. Scale to zero: the nodes go.
	if err := cs.AppsV1().Deployments("default").Delete(ctx, "inflate", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitNoNodeClaims(t, kube, 90*time.Second)

	// 6. Destroy leaves nothing behind in AWS or the cluster.
	start = time.Now()
	destroy()
	t.Logf("destroy took %s", time.Since(start).Round(100*time.Millisecond))
	assertNothingLeft(t, cloud)
}

// localExample copies examples/local (so runs leave nothing in the
// repository) and returns its directory and Terraform options against the
// cloud, signed with the administrator's keys.
func localExample(t *testing.T, root string, cloud *localcloud.Cloud, tfBin string) (string, *terraform.Options) {
	t.Helper()
	dir := t.TempDir()
	copyExample(t, filepath.Join(root, "examples", "local"), dir, filepath.Join(root, "modules"))
	return dir, cloudOptions(t, cloud, filepath.Join(dir, "examples", "local"), tfBin, pushedControllerImage(t, cloud))
}

// destroyOnce returns destroy for the configuration in opts, which the
// test calls to check what it leaves; if the test ends first, it runs then.
func destroyOnce(t *testing.T, opts *terraform.Options) func() {
	destroyed := false
	destroy := func() {
		if !destroyed {
			destroyed = true
			terraform.Destroy(t, opts)
		}
	}
	t.Cleanup(destroy)
	return destroy
}

// withoutDefaultPool rewrites the main.tf of the local example in opts
// without its default pool, then hcl; it returns that configuration
// without hcl, for later rewrites.
func withoutDefaultPool(t *testing.T, opts *terraform.Options, hcl string) string {
	t.Helper()
	mainTF := filepath.Join(opts.TerraformDir, "main.tf")
	src, err := os.ReadFile(mainTF)
	if err != nil {
		t.Fatal(err)
	}
	base := regexp.MustCompile(`(?s)module "default_pool" \{.*?\n\}\n`).ReplaceAllString(string(src), "")
	if base == string(src) {
		t.Fatal("examples/local has no default_pool module to replace")
	}
	if err := os.WriteFile(mainTF, []byte(base+"\n"+hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	delete(opts.Vars, "extra_requirements")
	return base
}

// pushedControllerImage is the image `make image` built, which the cloud
// pushed to its registry: the system node pulls it by digest.
func pushedControllerImage(t *testing.T, cloud *localcloud.Cloud) string {
	t.Helper()
	if cloud.ControllerImage() == "" {
		t.Fatal("the local cloud pushed no controller image: run `make image` (make test does)")
	}
	return cloud.ControllerImage()
}

// cloudOptions runs the configuration in tfDir against the cloud with the
// provider from the release mirror; the configuration takes the cluster's
// kubeconfig and name and the controller image as variables.
func cloudOptions(t *testing.T, cloud *localcloud.Cloud, tfDir, tfBin, controllerImage string) *terraform.Options {
	t.Helper()
	env := providerEnv(t)
	for _, kv := range cloud.AWSEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return &terraform.Options{
		TerraformDir: tfDir, TerraformBinary: tfBin, NoColor: true, EnvVars: env,
		Vars: map[string]any{"kubeconfig": cloud.Kubeconfig, "cluster_name": cloud.ClusterName(), "controller_image": controllerImage},
	}
}

func assertNothingLeft(t *testing.T, cloud *localcloud.Cloud) {
	ctx := context.Background()
	cfg := cloud.AWSConfig()
	out, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "shutting-down"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			t.Errorf("instance %s left after destroy", aws.ToString(i.InstanceId))
		}
	}
	lts, err := ec2.NewFromConfig(cfg).DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err == nil && len(lts.LaunchTemplates) > 0 {
		t.Errorf("%d launch templates left after destroy", len(lts.LaunchTemplates))
	}
	profiles, err := iam.NewFromConfig(cfg).ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	if err == nil && len(profiles.InstanceProfiles) > 0 {
		t.Errorf("%d instance profiles left after destroy", len(profiles.InstanceProfiles))
	}
	roles, err := iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
	if err == nil && len(roles.Roles) > 0 {
		t.Errorf("%d IAM roles left after destroy", len(roles.Roles))
	}
	queues, err := sqs.NewFromConfig(cfg).ListQueues(ctx, &sqs.ListQueuesInput{})
	if err == nil && len(queues.QueueUrls) > 0 {
		t.Errorf("queues left after destroy: %v", queues.QueueUrls)
	}
	cs := kubernetes.NewForConfigOrDie(cloud.RESTConfig)
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "nodewright", metav1.GetOptions{}); err == nil {
		t.Errorf("namespace nodewright left after destroy")
	}
}

func poll(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		t.Fatalf("%s: not within %s", what, timeout)
	}
}

// copyExample copies the example and the modules it uses, keeping the
// relative module paths (../../modules) valid.
func copyExample(t *testing.T, example, dst, modules string) {
	t.Helper()
	copyTree(t, example, filepath.Join(dst, "examples", "local"))
	copyTree(t, modules, filepath.Join(dst, "modules"))
}

// copyTree copies src into dst, leaving out Terraform's working files.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(info.Name(), ".terraform") || strings.Contains(info.Name(), ".tfstate") {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEKSExamplePlans validates and plans examples/eks against the local
// cloud's EKS endpoint: the cluster is looked up by name, and planning
// needs nothing from it.
func TestEKSExamplePlans(t *testing.T) {
	if testing.Short() {
		t.Skip("plans examples/eks against a local cloud")
	}
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tfBin := release.TerraformBinary(t)
	cloud := localcloud.Start(t)
	dir := t.TempDir()
	copyExample(t, filepath.Join(root, "examples", "eks"), dir, filepath.Join(root, "modules"))
	env := providerEnv(t)
	for _, kv := range cloud.AWSEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	opts := &terraform.Options{
		TerraformDir: filepath.Join(dir, "examples", "local"), TerraformBinary: tfBin, NoColor: true, EnvVars: env,
		Vars: map[string]any{"cluster_name": cloud.ClusterName(), "region": cloud.Region(),
			"oidc_provider_arn": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"},
	}
	terraform.Init(t, opts)
	// validate takes no variables.
	terraform.RunTerraformCommand(t, &terraform.Options{TerraformDir: opts.TerraformDir, TerraformBinary: tfBin, NoColor: true, EnvVars: env}, "validate", "-no-color")
	out := terraform.Plan(t, opts)
	if !strings.Contains(out, "nodewright_controller.this[0] will be created") || !strings.Contains(out, "nodewright_node_pool.this will be created") {
		t.Errorf("plan of examples/eks does not create the controller and the NodePool:\n%s", out)
	}
}

// checkControllerRole: the controller Deployment carries no AWS
// credentials, and the launches were made by a session of the controller
// role (from the Pod Identity agent, or from IRSA's web identity exchange),
// which the local cloud's IAM held to the module's policy.
func checkControllerRole(t *testing.T, cs kubernetes.Interface, cloud *localcloud.Cloud, podIdentity bool) {
	t.Helper()
	d, err := cs.AppsV1().Deployments("nodewright").Get(context.Background(), "nodewright", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == "AWS_ACCESS_KEY_ID" || e.Name == "AWS_SECRET_ACCESS_KEY" || e.Name == "AWS_SESSION_TOKEN" {
				t.Errorf("the controller Deployment carries %s", e.Name)
			}
		}
	}
	resp, err := http.Get(cloud.AWSEndpoint() + "/_localcloud/world")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var world struct {
		STS struct {
			Sessions map[string]struct {
				RoleARN string            `json:"roleArn"`
				Tags    map[string]string `json:"tags"`
			} `json:"sessions"`
		} `json:"sts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&world); err != nil {
		t.Fatal(err)
	}
	want := ":role/nodewright-" + cloud.ClusterName() + "-controller"
	for _, sess := range world.STS.Sessions {
		if strings.HasSuffix(sess.RoleARN, want) && (sess.Tags["kubernetes-service-account"] == "nodewright") == podIdentity {
			return
		}
	}
	t.Errorf("no session of the controller role (%s, pod identity %v) among %d sessions", want, podIdentity, len(world.STS.Sessions))
}

// TestLocalExampleIRSA runs the controller through IRSA instead: the
// cluster's IAM OIDC provider (nodewright_oidc_provider, from the issuer
// DescribeCluster reports), the module's irsa trust, and the pod runtime's
// web identity token, exchanged at STS and checked against the apiserver's
// keys. The controller launches nodes for pending pods.
func TestLocalExampleIRSA(t *testing.T) {
	if testing.Short() {
		t.Skip("applies examples/local to a local cloud")
	}
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cloud := localcloud.Start(t)
	ctx := context.Background()
	issuer := strings.TrimPrefix(localcloud.ServiceAccountIssuer, "https://")
	_, opts := localExample(t, root, cloud, release.TerraformBinary(t))
	opts.Vars["controller_trust"] = "irsa"
	t.Cleanup(func() { terraform.Destroy(t, opts) })
	terraform.InitAndApply(t, opts)

	cs := kubernetes.NewForConfigOrDie(cloud.RESTConfig)
	sa, err := cs.CoreV1().ServiceAccounts("nodewright").Get(ctx, "nodewright", metav1.GetOptions{})
	if err != nil || !strings.HasSuffix(sa.Annotations["eks.amazonaws.com/role-arn"], "-controller") {
		t.Fatalf("the controller's service account is not annotated with its role: %v %v", sa.Annotations, err)
	}
	deployPause(t, cs, "irsa", 2)
	t.Cleanup(func() {
		if t.Failed() {
			logControllerTail(t, cloud)
		}
	})
	poll(t, "pods Running on launched nodes", 90*time.Second, func() bool {
		pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=irsa"})
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return err == nil && running == 2
	})
	checkControllerRole(t, cs, cloud, false)
	t.Logf("the controller assumed its role through the OIDC provider for %s", issuer)
	if err := cs.AppsV1().Deployments("default").Delete(ctx, "irsa", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// logControllerTail logs the end of the controller's log, which the pod
// runtime keeps in the cloud's directory, so a failure says why.
func logControllerTail(t *testing.T, cloud *localcloud.Cloud) {
	files, _ := filepath.Glob(filepath.Join(cloud.Dir(), "podruntime", "pods", "nodewright_*.log"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if len(b) > 6000 {
			b = b[len(b)-6000:]
		}
		t.Logf("%s:\n%s", filepath.Base(f), b)
	}
}

// waitInflateRunning waits until n pods of the inflate Deployment run.
func waitInflateRunning(t *testing.T, cs kubernetes.Interface, n int, timeout time.Duration) {
	t.Helper()
	poll(t, fmt.Sprintf("%d inflate pods Running", n), timeout, func() bool {
		pods, err := cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{LabelSelector: "app=inflate"})
		if err != nil {
			return false
		}
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return running == n
	})
}

// deployPause creates a Deployment app=name of pause pods asking 1 CPU
// each, in default, once its service account exists.
func deployPause(t *testing.T, cs kubernetes.Interface, name string, replicas int32) {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": name}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				TerminationGracePeriodSeconds: ptr.To[int64](0),
				Containers: []corev1.Container{{Name: name, Image: "registry.k8s.io/pause:3.10",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}}}}}
	waitDefaultServiceAccount(t, cs)
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// clusterClients are a controller-runtime client with nodewright's types
// and a clientset, both on the cloud's control plane.
func clusterClients(t *testing.T, cloud *localcloud.Cloud) (client.Client, kubernetes.Interface) {
	t.Helper()
	scheme, _ := operator.Scheme()
	kube, err := client.New(cloud.RESTConfig, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return kube, kubernetes.NewForConfigOrDie(cloud.RESTConfig)
}

// waitDefaultServiceAccount waits for default's service account, which
// pods need before they can be created there.
func waitDefaultServiceAccount(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	poll(t, "default service account", time.Minute, func() bool {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(context.Background(), "default", metav1.GetOptions{})
		return err == nil
	})
}

// waitNoNodeClaims waits for every NodeClaim, and so node, to be gone.
func waitNoNodeClaims(t *testing.T, kube client.Client, timeout time.Duration) {
	t.Helper()
	poll(t, "nodes removed", timeout, func() bool {
		var list v1.NodeClaimList
		return kube.List(context.Background(), &list) == nil && len(list.Items) == 0
	})
}
