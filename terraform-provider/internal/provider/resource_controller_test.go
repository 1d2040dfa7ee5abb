package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	kresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/crds"
	"github.com/nodewright/nodewright/test/kubetest"
	"github.com/nodewright/nodewright/test/localcloud"
)

// controllerTest starts a local cloud and returns it, a client for it, and
// the provider block pointing at both its AWS endpoint and its cluster.
func controllerTest(t *testing.T) (*localcloud.Cloud, client.Client, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the local cloud")
	}
	if os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		if _, err := os.Stat("/usr/local/bin/terraform"); err != nil {
			t.Skip("no terraform binary: set TF_ACC_TERRAFORM_PATH")
		}
		t.Setenv("TF_ACC_TERRAFORM_PATH", "/usr/local/bin/terraform")
	}
	if os.Getenv("TF_ACC") == "" {
		t.Setenv("TF_ACC", "1")
	}
	if os.Getenv("NODEWRIGHT_BIN_DIR") == "" {
		t.Skip("set NODEWRIGHT_BIN_DIR to the directory holding the local cloud's binaries and bin/nodewright")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", localcloud.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", localcloud.SecretAccessKey)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	cloud := localcloud.Start(t)
	// The default image, ghcr.io/nodewright/nodewright:test here, is served
	// by the cloud's registry standing in for ghcr.io (podruntime pulls
	// foreign references from it by repository path): push the image
	// `make image` built under that tag.
	layout := filepath.Join(os.Getenv("NODEWRIGHT_BIN_DIR"), "image")
	if _, err := cloud.PushLayout(context.Background(), layout, "nodewright/nodewright", "test"); err != nil {
		t.Fatalf("pushing the controller image (run `make image`): %v", err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cloud.RESTConfig, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	prov := fmt.Sprintf("provider \"nodewright\" {\n  region   = %q\n  endpoint = %q\n  kubernetes {\n    config_path = %q\n  }\n}\n",
		cloud.Region(), cloud.AWSEndpoint(), cloud.Kubeconfig)
	return cloud, c, prov
}

// controllerConfig is a light installation for tests: one replica, small
// requests, and no listening ports, so that two replicas on the system
// node do not fight over one port.
func controllerConfig(cloud *localcloud.Cloud, prov, extra string) string {
	return prov + fmt.Sprintf(`resource "nodewright_controller" "test" {
  cluster_name      = %q
  cluster_endpoint  = %q
  metrics_port      = 0
  health_probe_port = 0
  resources = {
    cpu_request    = "100m"
    memory_request = "128Mi"
  }
  create_timeout = "90s"
  delete_timeout = "2m"
%s}
`, cloud.ClusterName(), cloud.APIServerURL(), extra)
}

func crdNames(t *testing.T) []string {
	objs, err := crds.Objects()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.GetName())
	}
	return names
}

func crdExists(ctx context.Context, c client.Client, name string) (bool, error) {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("apiextensions.k8s.io/v1")
	u.SetKind("CustomResourceDefinition")
	err := c.Get(ctx, client.ObjectKey{Name: name}, u)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// checkControllerRunning asserts the Deployment is available with want
// replicas, and its pods are Ready and backed by live processes.
func checkControllerRunning(c client.Client, want int32, logLevel string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		dep := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "nodewright", Name: "nodewright"}, dep); err != nil {
			return err
		}
		if dep.Status.AvailableReplicas != want || *dep.Spec.Replicas != want {
			return fmt.Errorf("deployment has %d/%d available, want %d", dep.Status.AvailableReplicas, *dep.Spec.Replicas, want)
		}
		ctr := dep.Spec.Template.Spec.Containers[0]
		env := map[string]string{}
		for _, e := range ctr.Env {
			env[e.Name] = e.Value
		}
		if env["LOG_LEVEL"] != logLevel || env["LEADER_ELECTION_NAMESPACE"] != "nodewright" || env["AWS_ENDPOINT_URL"] == "" || env["AWS_REGION"] != "us-east-1" {
			return fmt.Errorf("unexpected env %v", env)
		}
		if len(ctr.Args) != 1 || ctr.Args[0] != "controller" {
			return fmt.Errorf("args %v, want [controller]", ctr.Args)
		}
		aff := dep.Spec.Template.Spec.Affinity
		if aff == nil || aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Key != v1.NodePoolLabelKey {
			return fmt.Errorf("missing the node affinity that avoids managed nodes: %+v", aff)
		}
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace("nodewright"), client.MatchingLabels(selectorLabels())); err != nil {
			return err
		}
		ready := 0
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				continue
			}
			for _, cs := range p.Status.ContainerStatuses {
				pid, err := strconv.Atoi(strings.TrimPrefix(cs.ContainerID, "localcloud://"))
				if cs.Ready && err == nil {
					// A real process, not a no-op container.
					if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
						ready++
					}
				}
			}
		}
		if ready != int(want) {
			return fmt.Errorf("%d controller processes running, want %d (pods: %s)", ready, want, podsSummary(ctx, c, "nodewright"))
		}
		return nil
	}
}

func TestAccController(t *testing.T) {
	cloud, c, prov := controllerTest(t)
	res := "nodewright_controller.test"
	var pdbUID types.UID
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			ctx := context.Background()
			for _, n := range crdNames(t) {
				if ok, err := crdExists(ctx, c, n); ok || err != nil {
					return fmt.Errorf("CRD %s still exists after destroy (err=%v)", n, err)
				}
			}
			err := c.Get(ctx, client.ObjectKey{Name: "nodewright"}, &corev1.Namespace{})
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("namespace nodewright still exists after destroy (err=%v)", err)
			}
			err = c.Get(ctx, client.ObjectKey{Name: clusterRoleName("nodewright")}, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole"}})
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("cluster role still exists after destroy (err=%v)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config:      controllerConfig(cloud, prov, "  log_level = \"loud\"\n"),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`value must be one of`),
			},
			{
				Config: controllerConfig(cloud, prov, "  replicas = 1\n"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("id"), knownvalue.StringExact("nodewright/nodewright")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("image"), knownvalue.StringExact(ControllerImageRepository+":test")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("namespace"), knownvalue.StringExact("nodewright")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("crds_version"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{16}$`))),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("priority_class_name"), knownvalue.StringExact("system-cluster-critical")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("tolerations"), knownvalue.ListExact([]knownvalue.Check{knownvalue.ObjectExact(map[string]knownvalue.Check{
						"key": knownvalue.StringExact("CriticalAddonsOnly"), "operator": knownvalue.StringExact("Exists"),
						"value": knownvalue.StringExact(""), "effect": knownvalue.StringExact(""),
					})})),
				},
				Check: resource.ComposeTestCheckFunc(
					func(*terraform.State) error {
						for _, n := range crdNames(t) {
							if ok, err := crdExists(context.Background(), c, n); !ok {
								return fmt.Errorf("CRD %s not installed (err=%v)", n, err)
							}
						}
						return nil
					},
					checkControllerRunning(c, 1, "info"),
					checkControllerHardening(c, hardeningWant{pdb: 1, pdbUID: &pdbUID, spread: 2, securityContext: true}),
				),
			},
			{
				// Drift made outside Terraform is planned away.
				PreConfig: func() {
					// The deployment controller writes its status: a fresh
					// read, and again on a conflict.
					dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "nodewright", Name: "nodewright"}}
					err := kubetest.Update(context.Background(), c, dep, func(dep *appsv1.Deployment) {
						dep.Spec.Template.Spec.Containers[0].Image = ControllerImageRepository + ":drifted"
					})
					if err != nil {
						t.Fatal(err)
					}
				},
				Config:             controllerConfig(cloud, prov, "  replicas = 1\n"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// Two replicas on the one system node: the hostname spread
				// (DoNotSchedule) still schedules both. The PodDisruptionBudget
				// and the spread change in place.
				Config: controllerConfig(cloud, prov, "  replicas = 2\n  log_level = \"debug\"\n  pdb_max_unavailable = 2\n"+
					"  topology_spread = [{ topology_key = \"kubernetes.io/hostname\" }]\n"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("replicas"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("image"), knownvalue.StringExact(ControllerImageRepository+":test")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("pdb_max_unavailable"), knownvalue.Int64Exact(2)),
				},
				Check: resource.ComposeTestCheckFunc(
					checkControllerRunning(c, 2, "debug"),
					checkControllerHardening(c, hardeningWant{pdb: 2, pdbUID: &pdbUID, spread: 1, securityContext: true}),
				),
			},
			{
				ResourceName:            res,
				ImportState:             true,
				ImportStateId:           "nodewright",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"create_timeout", "delete_timeout"},
			},
			{
				// Metrics on: the Service appears; the PodDisruptionBudget and
				// the security context turned off go away, all in place.
				Config: strings.Replace(controllerConfig(cloud, prov, "  replicas = 1\n  pdb_max_unavailable = 0\n  security_context = false\n"),
					"metrics_port      = 0", "metrics_port      = 18080", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate)}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("metrics_service"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("security_context"), knownvalue.Bool(false)),
				},
				Check: resource.ComposeTestCheckFunc(
					checkControllerRunning(c, 1, "info"),
					checkControllerHardening(c, hardeningWant{metricsPort: 18080, spread: 2}),
				),
			},
			{
				// The Service deleted by hand is drift the next plan restores.
				PreConfig: func() {
					svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "nodewright", Name: metricsServiceName}}
					if err := c.Delete(context.Background(), svc); err != nil {
						t.Fatal(err)
					}
				},
				Config: strings.Replace(controllerConfig(cloud, prov, "  replicas = 1\n  pdb_max_unavailable = 0\n  security_context = false\n"),
					"metrics_port      = 0", "metrics_port      = 18080", 1),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// hardeningWant is what checkControllerHardening expects of the live
// objects: 0 means no PodDisruptionBudget (pdb) or metrics Service
// (metricsPort); spread counts topology spread constraints.
type hardeningWant struct {
	pdb             int
	pdbUID          *types.UID // set on the first check, compared on later ones: updated in place
	metricsPort     int32
	spread          int
	securityContext bool
}

// checkControllerHardening asserts the PodDisruptionBudget, the metrics
// Service, the topology spread and the security context of the live
// installation.
func checkControllerHardening(c client.Client, want hardeningWant) resource.TestCheckFunc {
	return func(*terraform.State) error {
		ctx := context.Background()
		dep := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "nodewright", Name: "nodewright"}, dep); err != nil {
			return err
		}
		pod := dep.Spec.Template.Spec
		if got := len(pod.TopologySpreadConstraints); got != want.spread {
			return fmt.Errorf("%d topology spread constraints, want %d: %+v", got, want.spread, pod.TopologySpreadConstraints)
		}
		if got := restricted(pod.SecurityContext, pod.Containers[0].SecurityContext); got != want.securityContext {
			return fmt.Errorf("restricted security context %v, want %v: pod %+v container %+v", got, want.securityContext, pod.SecurityContext, pod.Containers[0].SecurityContext)
		}
		pdb := &policyv1.PodDisruptionBudget{}
		err := c.Get(ctx, client.ObjectKey{Namespace: "nodewright", Name: "nodewright"}, pdb)
		switch {
		case want.pdb == 0 && !apierrors.IsNotFound(err):
			return fmt.Errorf("PodDisruptionBudget still there with pdb_max_unavailable = 0 (err=%v)", err)
		case want.pdb > 0 && err != nil:
			return fmt.Errorf("PodDisruptionBudget: %w", err)
		case want.pdb > 0 && pdb.Spec.MaxUnavailable.IntValue() != want.pdb:
			return fmt.Errorf("PodDisruptionBudget maxUnavailable %v, want %d", pdb.Spec.MaxUnavailable, want.pdb)
		}
		if want.pdbUID != nil && want.pdb > 0 {
			if *want.pdbUID != "" && *want.pdbUID != pdb.UID {
				return fmt.Errorf("PodDisruptionBudget was replaced (uid %s, was %s), not updated in place", pdb.UID, *want.pdbUID)
			}
			*want.pdbUID = pdb.UID
		}
		svc := &corev1.Service{}
		err = c.Get(ctx, client.ObjectKey{Namespace: "nodewright", Name: metricsServiceName}, svc)
		switch {
		case want.metricsPort == 0 && !apierrors.IsNotFound(err):
			return fmt.Errorf("metrics Service exists without a metrics port (err=%v)", err)
		case want.metricsPort > 0 && err != nil:
			return fmt.Errorf("metrics Service: %w", err)
		case want.metricsPort > 0 && (len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != want.metricsPort || svc.Spec.Ports[0].TargetPort.String() != "metrics"):
			return fmt.Errorf("metrics Service ports %+v, want %d to the port named metrics", svc.Spec.Ports, want.metricsPort)
		}
		return nil
	}
}

// TestAccControllerDestroyRemovesNodes launches real nodes through the
// deployed controller and checks destroy takes them, and everything AWS
// the controller made, away before the controller itself.
func TestAccControllerDestroyRemovesNodes(t *testing.T) { testDestroyRemovesNodes(t, false) }

// TestAccControllerDestroyWithoutController stops the controller before
// destroy: the resource then terminates the instances and deletes the
// launch templates and instance profiles itself.
func TestAccControllerDestroyWithoutController(t *testing.T) { testDestroyRemovesNodes(t, true) }

func testDestroyRemovesNodes(t *testing.T, stopController bool) {
	cloud, c, prov := controllerTest(t)
	awsCfg := cloud.AWSConfig()
	ec2c := ec2.NewFromConfig(awsCfg)
	liveInstances := func(ctx context.Context) ([]string, error) {
		out, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
			{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}}})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				ids = append(ids, aws.ToString(in.InstanceId))
			}
		}
		return ids, nil
	}
	launchNodes := func(*terraform.State) error {
		ctx := context.Background()
		_, err := iam.NewFromConfig(awsCfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("nodewright-node"),
			AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
		if err != nil {
			return err
		}
		discovery := map[string]string{"nodewright.dev/discovery": cloud.ClusterName()}
		objs := []client.Object{
			&v1.EC2NodeClass{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: v1.EC2NodeClassSpec{Role: "nodewright-node",
				SubnetSelectorTerms:        []v1.SubnetSelectorTerm{{Tags: discovery}},
				SecurityGroupSelectorTerms: []v1.SecurityGroupSelectorTerm{{Tags: discovery}},
				AMISelectorTerms:           []v1.AMISelectorTerm{{Alias: "al2023@latest"}}}},
			// Consolidation off: the nodes must stay until destroy removes them.
			&v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: v1.NodePoolSpec{Template: v1.NodeClaimTemplate{Spec: v1.NodeClaimTemplateSpec{
				NodeClassRef: &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"}}},
				Disruption: v1.Disruption{ConsolidateAfter: v1.Never}}},
			&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](2),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "c", Image: "pause", Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: kresource.MustParse("1")}}}}}}}},
		}
		for _, o := range objs {
			if err := c.Create(ctx, o); err != nil {
				return fmt.Errorf("creating %T: %w", o, err)
			}
		}
		// Wait for the controller to launch and register nodes.
		deadline := time.Now().Add(60 * time.Second)
		for {
			var claims v1.NodeClaimList
			if err := c.List(ctx, &claims); err != nil {
				return err
			}
			ids, err := liveInstances(ctx)
			if err != nil {
				return err
			}
			var nodes corev1.NodeList
			if err := c.List(ctx, &nodes, client.HasLabels{v1.NodePoolLabelKey}); err != nil {
				return err
			}
			if len(claims.Items) > 0 && len(ids) > 0 && len(nodes.Items) > 0 {
				t.Logf("controller launched %d nodeclaims, instances %v, %d nodes", len(claims.Items), ids, len(nodes.Items))
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("no nodes launched within 60s: %d nodeclaims, instances %v, %d nodes", len(claims.Items), ids, len(nodes.Items))
			}
			time.Sleep(time.Second)
		}
	}
	stop := func(*terraform.State) error {
		if !stopController {
			return nil
		}
		ctx := context.Background()
		dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "nodewright", Name: "nodewright"}}
		if err := kubetest.Update(ctx, c, dep, func(dep *appsv1.Deployment) { dep.Spec.Replicas = ptr.To[int32](0) }); err != nil {
			return err
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
			var pods corev1.PodList
			if err := c.List(ctx, &pods, client.InNamespace("nodewright"), client.MatchingLabels(selectorLabels())); err != nil {
				return err
			}
			if len(pods.Items) == 0 {
				// The point is to leave nodes behind for destroy.
				var claims v1.NodeClaimList
				if err := c.List(ctx, &claims); err != nil {
					return err
				}
				ids, err := liveInstances(ctx)
				if err != nil {
					return err
				}
				t.Logf("controller stopped with %d nodeclaims and instances %v left", len(claims.Items), ids)
				if len(claims.Items) == 0 || len(ids) == 0 {
					return fmt.Errorf("the controller left no nodeclaims (%d) or instances (%v) behind to clean up", len(claims.Items), ids)
				}
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("controller pods still running 30s after scaling to 0")
			}
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			ctx := context.Background()
			ids, err := liveInstances(ctx)
			if err != nil || len(ids) > 0 {
				return fmt.Errorf("instances left after destroy: %v (err=%v)", ids, err)
			}
			out, err := ec2c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
			if err != nil || len(out.LaunchTemplates) > 0 {
				return fmt.Errorf("launch templates left after destroy: %d (err=%v)", len(out.LaunchTemplates), err)
			}
			profiles, err := iam.NewFromConfig(awsCfg).ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/nodewright/")})
			if err != nil || len(profiles.InstanceProfiles) > 0 {
				return fmt.Errorf("instance profiles left after destroy (err=%v)", err)
			}
			var nodes corev1.NodeList
			if err := c.List(ctx, &nodes, client.HasLabels{v1.NodePoolLabelKey}); err != nil || len(nodes.Items) > 0 {
				return fmt.Errorf("%d managed nodes left after destroy (err=%v)", len(nodes.Items), err)
			}
			for _, n := range crdNames(t) {
				if ok, err := crdExists(ctx, c, n); ok || err != nil {
					return fmt.Errorf("CRD %s still exists after destroy (err=%v)", n, err)
				}
			}
			// The controller ran under the RBAC the resource grants: any
			// call it was refused shows in its log.
			logs, _ := filepath.Glob(filepath.Join(cloud.Dir(), "podruntime", "pods", "nodewright_*.log"))
			if len(logs) == 0 {
				return fmt.Errorf("no controller log under %s", cloud.Dir())
			}
			for _, l := range logs {
				data, err := os.ReadFile(l)
				if err != nil {
					return err
				}
				for _, line := range strings.Split(string(data), "\n") {
					if strings.Contains(line, "forbidden") {
						return fmt.Errorf("the controller was refused by RBAC: %s", line)
					}
				}
				if !stopController && !strings.Contains(string(data), "terminated instance") {
					return fmt.Errorf("controller log %s does not show it terminating the instances itself", l)
				}
			}
			return nil
		},
		Steps: []resource.TestStep{{
			Config: controllerConfig(cloud, prov, "  replicas = 1\n"),
			Check:  resource.ComposeTestCheckFunc(checkControllerRunning(c, 1, "info"), launchNodes, stop),
			// Scaling the controller down is drift the next plan undoes.
			ExpectNonEmptyPlan: stopController,
		}},
	})
}
