package provider

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// iamTagAPI tags and untags one kind of IAM entity by name.
type iamTagAPI struct {
	tag   func(ctx context.Context, c *iam.Client, name string, tags []iamtypes.Tag) error
	untag func(ctx context.Context, c *iam.Client, name string, keys []string) error
}

var roleTagAPI = iamTagAPI{
	tag: func(ctx context.Context, c *iam.Client, name string, tags []iamtypes.Tag) error {
		_, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(name), Tags: tags})
		return err
	},
	untag: func(ctx context.Context, c *iam.Client, name string, keys []string) error {
		_, err := c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String(name), TagKeys: keys})
		return err
	},
}

var instanceProfileTagAPI = iamTagAPI{
	tag: func(ctx context.Context, c *iam.Client, name string, tags []iamtypes.Tag) error {
		_, err := c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String(name), Tags: tags})
		return err
	},
	untag: func(ctx context.Context, c *iam.Client, name string, keys []string) error {
		_, err := c.UntagInstanceProfile(ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: aws.String(name), TagKeys: keys})
		return err
	},
}

// taggedIAMResource is what the resources of one named, tagged IAM entity
// (a role, an instance profile) share: Configure, Read, ImportState by
// name, the tag half of Update and the read-back after a write. A resource
// embeds it and writes its own Create, Update and Delete around it.
type taggedIAMResource[M any] struct {
	configuredResource

	// kind names the resource in diagnostic summaries (node role).
	kind string
	// entity names the IAM entity in diagnostic details (role).
	entity string
	// getCall is the IAM call read reports a failure of (iam:GetRole).
	getCall string
	// importNoun and importHint complete the message for a bad import id:
	// "<id> is not an <importNoun> (<rule>); <importHint>."
	importNoun, importHint string
	tags                   iamTagAPI

	// name and tagsOf are the model's name and tags attributes.
	name   func(m *M) types.String
	tagsOf func(m *M) types.Map
	// read refreshes m from IAM and returns a NoSuchEntity error unchanged.
	read func(ctx context.Context, c *iam.Client, m *M) error
}

// taggedRole is the taggedIAMResource of an IAM role; kind names the
// resource in diagnostics (node role).
func taggedRole[M any](kind string, name func(*M) types.String, tagsOf func(*M) types.Map, read func(context.Context, *iam.Client, *M) error) taggedIAMResource[M] {
	return taggedIAMResource[M]{
		kind:       kind,
		entity:     "role",
		getCall:    "iam:GetRole",
		importNoun: "IAM role name",
		importHint: "import the " + kind + " by its name",
		tags:       roleTagAPI,
		name:       name,
		tagsOf:     tagsOf,
		read:       read,
	}
}

func (r *taggedIAMResource[M]) client() *iam.Client { return iam.NewFromConfig(r.data.AWS) }

func (r *taggedIAMResource[M]) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state M
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.read(ctx, r.client(), &state); err != nil {
		if isCode(err, "NoSuchEntity") {
			resp.State.RemoveResource(ctx)
			return
		}
		resp.Diagnostics.AddError("Reading "+r.kind, awsDetail(r.getCall, r.entity+" "+r.name(&state).ValueString(), err))
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// updateTags applies the planned tags to the entity named name.
func (r *taggedIAMResource[M]) updateTags(ctx context.Context, c *iam.Client, name string, plan, state *M) diag.Diagnostics {
	want, have := r.tagsOf(plan), r.tagsOf(state)
	if want.Equal(have) {
		return nil
	}
	return updateTags(ctx, want, have,
		func(set map[string]string) error { return r.tags.tag(ctx, c, name, iamTags(set)) },
		func(keys []string) error { return r.tags.untag(ctx, c, name, keys) },
		r.entity+" "+name)
}

// saveRead reads the entity named name back into m after a write and saves
// it as the state.
func (r *taggedIAMResource[M]) saveRead(ctx context.Context, c *iam.Client, name string, m *M, state *tfsdk.State, diags *diag.Diagnostics) {
	if err := r.read(ctx, c, m); err != nil {
		diags.AddError("Reading "+r.kind, awsDetail(r.getCall, r.entity+" "+name, err))
		return
	}
	diags.Append(state.Set(ctx, m)...)
}

func (r *taggedIAMResource[M]) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !iamNameRE.MatchString(req.ID) {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("%q is not an %s (^[\\w+=,.@-]{1,64}$); %s.", req.ID, r.importNoun, r.importHint))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}

// iamTagsValue is the tags attribute of what IAM returns; see tagsValue.
func iamTagsValue(tags []iamtypes.Tag, prior types.Map) types.Map {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tagsValue(m, prior)
}
