package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// kubeObjectResource is the Configure, Create, Read, Update and Delete of a
// resource backed by one cluster-scoped nodewright object: the model M is
// written as spec S into an object O, and read back from it. A resource
// embeds it and adds its own Metadata, Schema, ValidateConfig and
// ImportState.
type kubeObjectResource[M any, S any, O client.Object] struct {
	configuredResource

	// kind names the object in diagnostics, as kubectl does (NodePool).
	kind string
	// name is the object's name in the model.
	name func(m *M) string
	// spec builds the object's spec from a fully known plan.
	spec func(m *M) (S, error)
	// object returns an empty object named name.
	object func(name string) O
	// setSpec replaces the object's spec.
	setSpec func(obj O, spec S)
	// fromObject fills m from the object; m holds the prior values (the
	// plan after a write, the state on refresh, nothing on import).
	fromObject func(obj O, m *M)
	// goneWhileDeleting makes an object that is being deleted (waiting on
	// its finalizers) read as gone, so a plan recreates it rather than
	// updating an object about to vanish.
	goneWhileDeleting bool
	// deleteTimeout is the model's delete_timeout.
	deleteTimeout func(m *M) string
	// waitDeleted waits, after the delete call, until the object and what
	// depends on it are gone, and reports what is left when timeout passes.
	waitDeleted func(ctx context.Context, c client.Client, name string, timeout time.Duration, diags *diag.Diagnostics)
}

// planned reads the plan, builds the spec from it and connects to the
// cluster: how Create and Update start.
func (r *kubeObjectResource[M, S, O]) planned(ctx context.Context, plan tfsdk.Plan, diags *diag.Diagnostics) (m M, spec S, c client.Client, ok bool) {
	diags.Append(plan.Get(ctx, &m)...)
	if diags.HasError() {
		return m, spec, nil, false
	}
	spec, err := r.spec(&m)
	if err != nil {
		diags.AddError("Building the "+r.kind, err.Error())
		return m, spec, nil, false
	}
	c, err = kubeClient(ctx, r.data)
	if err != nil {
		diags.AddError("Connecting to the cluster", err.Error())
		return m, spec, nil, false
	}
	return m, spec, c, true
}

// stated reads the state and connects to the cluster: how Read and Delete
// start.
func (r *kubeObjectResource[M, S, O]) stated(ctx context.Context, state tfsdk.State, diags *diag.Diagnostics) (m M, c client.Client, ok bool) {
	diags.Append(state.Get(ctx, &m)...)
	if diags.HasError() {
		return m, nil, false
	}
	c, err := kubeClient(ctx, r.data)
	if err != nil {
		diags.AddError("Connecting to the cluster", err.Error())
		return m, nil, false
	}
	return m, c, true
}

func (r *kubeObjectResource[M, S, O]) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	m, spec, c, ok := r.planned(ctx, req.Plan, &resp.Diagnostics)
	if !ok {
		return
	}
	name := r.name(&m)
	obj := r.object(name)
	r.setSpec(obj, spec)
	if err := c.Create(ctx, obj); err != nil {
		resp.Diagnostics.AddError("Creating "+r.kind, fmt.Sprintf("creating %s %s: %v. If it already exists, import it: terraform import <address> %s. Check that the nodewright CRDs are installed.", r.kind, name, err, name))
		return
	}
	r.fromObject(obj, &m)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *kubeObjectResource[M, S, O]) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	m, c, ok := r.stated(ctx, req.State, &resp.Diagnostics)
	if !ok {
		return
	}
	name := r.name(&m)
	obj := r.object("")
	if err := c.Get(ctx, client.ObjectKey{Name: name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		resp.Diagnostics.AddError("Reading "+r.kind, fmt.Sprintf("reading %s %s: %v", r.kind, name, err))
		return
	}
	if r.goneWhileDeleting && obj.GetDeletionTimestamp() != nil {
		resp.State.RemoveResource(ctx)
		return
	}
	r.fromObject(obj, &m)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *kubeObjectResource[M, S, O]) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	m, spec, c, ok := r.planned(ctx, req.Plan, &resp.Diagnostics)
	if !ok {
		return
	}
	name := r.name(&m)
	obj := r.object("")
	if err := kubeUpdateWithRetry(ctx, c, client.ObjectKey{Name: name}, obj, func() { r.setSpec(obj, spec) }); err != nil {
		resp.Diagnostics.AddError("Updating "+r.kind, fmt.Sprintf("updating %s %s: %v", r.kind, name, err))
		return
	}
	r.fromObject(obj, &m)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *kubeObjectResource[M, S, O]) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	m, c, ok := r.stated(ctx, req.State, &resp.Diagnostics)
	if !ok {
		return
	}
	timeout, err := time.ParseDuration(r.deleteTimeout(&m))
	if err != nil {
		timeout = 10 * time.Minute
	}
	name := r.name(&m)
	if err := c.Delete(ctx, r.object(name)); err != nil && !apierrors.IsNotFound(err) {
		resp.Diagnostics.AddError("Deleting "+r.kind, fmt.Sprintf("deleting %s %s: %v", r.kind, name, err))
		return
	}
	r.waitDeleted(ctx, c, name, timeout, &resp.Diagnostics)
}
