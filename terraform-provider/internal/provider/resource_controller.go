package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewright/nodewright/controller/crds"
)

var (
	_ resource.ResourceWithImportState = (*controllerResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*controllerResource)(nil)
)

// ControllerImageRepository is the controller image; the tag defaults to the
// provider's version.
const ControllerImageRepository = "ghcr.io/nodewright/nodewright"

// Defaults, shared by the schema and by import (which has no config).
const (
	defaultControllerNamespace = "nodewright"
	defaultReplicas            = 2
	defaultPriorityClass       = "system-cluster-critical"
	defaultLogLevel            = "info"
	defaultCPU                 = "500m"
	defaultMemory              = "512Mi"
	defaultMetricsPort         = 8080
	defaultHealthPort          = 8081
	defaultCreateTimeout       = "5m"
	defaultPDBMaxUnavailable   = 1
)

type controllerResource struct{ configuredResource }

func newControllerResource() resource.Resource { return &controllerResource{} }

func (r *controllerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_controller"
}

func (r *controllerResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = controllerSchema()
}

// crdsDigest identifies the CRDs compiled into this provider.
func crdsDigest() (string, error) {
	objs, err := crds.Objects()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, o := range objs {
		data, err := json.Marshal(o.Object)
		if err != nil {
			return "", err
		}
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func (r *controllerResource) defaultImage() string {
	if ReleaseImageDigest != "" {
		return ControllerImageRepository + "@" + ReleaseImageDigest
	}
	tag := "latest"
	if r.data != nil && r.data.Version != "" {
		tag = r.data.Version
	}
	return ControllerImageRepository + ":" + tag
}

// ModifyPlan fills in the image default (which depends on the provider
// version, unknown to the schema) and the CRDs digest. Neither needs the
// cluster.
func (r *controllerResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var image types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("image"), &image)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if image.IsNull() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("image"), types.StringValue(r.defaultImage()))...)
	}
	digest, err := crdsDigest()
	if err != nil {
		resp.Diagnostics.AddError("Reading the embedded CRDs", fmt.Sprintf("%v; this is a bug in the provider", err))
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("crds_version"), types.StringValue(digest))...)
}

// kubeClient builds a controller-runtime client that knows nodewright's types.
func (r *controllerResource) kubeClient(ctx context.Context) (client.Client, error) {
	cfg, err := r.data.Kube(ctx)
	if err != nil {
		return nil, err
	}
	scheme, err := kubeScheme()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}

// Create and Update both apply the plan: every object is written whole.
func (r *controllerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.applyPlan(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *controllerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.applyPlan(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *controllerResource) applyPlan(ctx context.Context, p tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics) {
	var plan controllerModel
	diags.Append(p.Get(ctx, &plan)...)
	if diags.HasError() {
		return
	}
	r.apply(ctx, &plan, diags)
	if diags.HasError() {
		return
	}
	diags.Append(state.Set(ctx, &plan)...)
}

// apply installs or upgrades the CRDs and every object, then waits for the
// rollout. It fills the computed attributes of m.
func (r *controllerResource) apply(ctx context.Context, m *controllerModel, diags *diag.Diagnostics) {
	spec, d := r.spec(ctx, m)
	diags.Append(d...)
	if diags.HasError() {
		return
	}
	restCfg, err := r.data.Kube(ctx)
	if err != nil {
		diags.AddError("Connecting to the cluster", err.Error())
		return
	}
	if err := crds.Install(ctx, restCfg); err != nil {
		diags.AddError("Installing the nodewright CRDs", fmt.Sprintf("%v. Check that the provider's Kubernetes credentials may create and update CustomResourceDefinitions.", err))
		return
	}
	c, err := r.kubeClient(ctx)
	if err != nil {
		diags.AddError("Connecting to the cluster", err.Error())
		return
	}
	// The CRDs above, then every object with the Deployment last, so a new
	// controller version starts against the schema it was built for.
	for _, obj := range controllerObjects(spec) {
		if err := upsert(ctx, c, obj); err != nil {
			diags.AddError("Applying the nodewright controller", fmt.Sprintf("%s %s: %v", kindOf(c, obj), client.ObjectKeyFromObject(obj), err))
			return
		}
	}
	// Optional objects an earlier apply created and the plan turns off.
	for _, obj := range controllerPrunedObjects(spec) {
		if err := c.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
			diags.AddError("Applying the nodewright controller", fmt.Sprintf("deleting %s %s: %v", kindOf(c, obj), client.ObjectKeyFromObject(obj), err))
			return
		}
	}
	m.ID = types.StringValue(spec.Namespace + "/" + controllerName)
	digest, err := crdsDigest()
	if err != nil {
		diags.AddError("Reading the embedded CRDs", err.Error())
		return
	}
	m.CRDsVersion = types.StringValue(digest)
	if !m.WaitForRollout.ValueBool() {
		return
	}
	timeout, _ := time.ParseDuration(m.CreateTimeout.ValueString())
	if err := waitForRollout(ctx, c, spec.Namespace, spec.Replicas, timeout); err != nil {
		diags.AddError("Waiting for the nodewright controller", err.Error())
	}
}

func (r *controllerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state controllerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := r.kubeClient(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Connecting to the cluster", err.Error())
		return
	}
	ns := state.Namespace.ValueString()
	dep := &appsv1.Deployment{}
	err = c.Get(ctx, client.ObjectKey{Namespace: ns, Name: controllerName}, dep)
	if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Reading the nodewright controller", fmt.Sprintf("Deployment %s/%s: %v", ns, controllerName, err))
		return
	}
	importing := state.ClusterName.IsNull()
	readDeployment(dep, &state, importing)
	pdb := &policyv1.PodDisruptionBudget{}
	err = c.Get(ctx, client.ObjectKey{Namespace: ns, Name: controllerName}, pdb)
	if client.IgnoreNotFound(err) != nil {
		resp.Diagnostics.AddError("Reading the nodewright controller", fmt.Sprintf("PodDisruptionBudget %s/%s: %v", ns, controllerName, err))
		return
	}
	readPDB(pdb, err == nil, &state)
	svc := &corev1.Service{}
	err = c.Get(ctx, client.ObjectKey{Namespace: ns, Name: metricsServiceName}, svc)
	if client.IgnoreNotFound(err) != nil {
		resp.Diagnostics.AddError("Reading the nodewright controller", fmt.Sprintf("Service %s/%s: %v", ns, metricsServiceName, err))
		return
	}
	readMetricsService(err == nil, &state)
	if importing {
		sa := &corev1.ServiceAccount{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: controllerName}, sa); err == nil {
			if arn, ok := sa.Annotations[roleARNAnnotation]; ok {
				state.ControllerRoleARN = types.StringValue(arn)
			}
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// ImportState takes the namespace the controller runs in.
func (r *controllerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ns := strings.TrimSuffix(req.ID, "/"+controllerName)
	if !dnsLabelRE.MatchString(ns) {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("%q is not a namespace; import with the namespace the controller runs in, e.g. %q", req.ID, defaultControllerNamespace))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("namespace"), ns)...)
}

func (r *controllerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state controllerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, err := time.ParseDuration(state.DeleteTimeout.ValueString())
	if err != nil {
		timeout = 10 * time.Minute
	}
	r.teardown(ctx, &state, timeout, &resp.Diagnostics)
}
