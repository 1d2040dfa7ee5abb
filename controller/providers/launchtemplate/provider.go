// Package launchtemplate owns what an instance boots with: the EC2 launch
// templates (image, user data, instance profile, security groups, metadata
// options, volumes), created once per distinct content and deleted with the
// node class, and the user data that registers a node as its NodeClaim
// asked. Templates are I/O on EC2; user data and block devices are pure.
package launchtemplate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/providers/internal/awsapi"
)

// Provider makes and deletes launch templates and renders user data.
type Provider interface {
	// Ensure returns the name of a launch template for the node class's
	// instances of one image with userData, creating it the first time.
	Ensure(ctx context.Context, nodeClass *v1.EC2NodeClass, imageID, userData string) (string, error)
	// Invalidate forgets a template someone else deleted, so that the next
	// Ensure creates it again.
	Invalidate(name string)
	// Delete deletes the templates made for a node class, or for the whole
	// cluster when nodeClass is empty, and says how many. Templates already
	// gone count as deleted.
	Delete(ctx context.Context, nodeClass string) (int, error)
	// UserData is the base64 user data that bootstraps the NodeClaim's node
	// in the node class's image family.
	UserData(nc *v1.NodeClaim, nodeClass *v1.EC2NodeClass) (string, error)
}

// Options are the cluster a node joins.
type Options struct {
	ClusterName     string
	ClusterEndpoint string
	// ClusterCABundle is the cluster CA certificate, base64-encoded PEM.
	ClusterCABundle string
	// ClusterCIDR is the service CIDR nodes are told about.
	ClusterCIDR string
}

// DefaultProvider is the Provider on EC2.
type DefaultProvider struct {
	opts Options
	ec2  EC2API
	// templates holds launch template name -> true for templates known to
	// exist, so that a launch costs no CreateLaunchTemplate call once its
	// template is made.
	templates sync.Map
}

var _ Provider = (*DefaultProvider)(nil)

// NewDefaultProvider makes templates with the client given.
func NewDefaultProvider(opts Options, e EC2API) *DefaultProvider {
	return &DefaultProvider{opts: opts, ec2: e}
}

// launchTemplateName names a template by the hash of everything in it, so
// that equal configurations share one and a changed one gets a new one.
func (p *DefaultProvider) launchTemplateName(hash string) string {
	return "nodewright/" + p.opts.ClusterName + "/" + hash
}

// Ensure implements Provider.
func (p *DefaultProvider) Ensure(ctx context.Context, nodeClass *v1.EC2NodeClass, imageID, userData string) (string, error) {
	return p.ensure(ctx, nodeClass.Name, NodeClassTags(p.opts.ClusterName, nodeClass), p.launchTemplateData(nodeClass, imageID, userData))
}

// ensure returns the name of a launch template holding data, creating it
// the first time with tags. The tags need not be in the name's hash: data
// carries them too (its network interfaces and spot requests are tagged
// with them), so a tag change already makes a new template.
func (p *DefaultProvider) ensure(ctx context.Context, nodeClass string, tags map[string]string, data *ec2types.RequestLaunchTemplateData) (string, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("hashing launch template data: %w", err)
	}
	sum := sha256.Sum256(append([]byte(nodeClass+"\x00"), raw...))
	name := p.launchTemplateName(hex.EncodeToString(sum[:])[:20])
	if _, ok := p.templates.Load(name); ok {
		return name, nil
	}
	_, err = p.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(name),
		LaunchTemplateData: data,
		TagSpecifications:  []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeLaunchTemplate, Tags: awsapi.Tags(tags)}},
	})
	if err != nil && awsapi.ErrorCode(err) != "InvalidLaunchTemplateName.AlreadyExistsException" {
		return "", fmt.Errorf("creating launch template %s: %w", name, err)
	}
	p.templates.Store(name, true)
	return name, nil
}

// Invalidate implements Provider.
func (p *DefaultProvider) Invalidate(name string) { p.templates.Delete(name) }

// Delete implements Provider: the templates made for a node class, or for
// the whole cluster when nodeClass is empty (tearing a cluster down).
func (p *DefaultProvider) Delete(ctx context.Context, nodeClass string) (int, error) {
	filters := []ec2types.Filter{awsapi.Filter("tag:"+awsapi.ClusterTag(p.opts.ClusterName), "owned")}
	if nodeClass != "" {
		filters = append(filters, awsapi.Filter("tag:"+v1.EC2NodeClassTagKey, nodeClass))
	}
	pages := ec2.NewDescribeLaunchTemplatesPaginator(p.ec2, &ec2.DescribeLaunchTemplatesInput{Filters: filters})
	var names []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("describing launch templates: %w", err)
		}
		for _, lt := range page.LaunchTemplates {
			if n := aws.ToString(lt.LaunchTemplateName); strings.HasPrefix(n, p.launchTemplateName("")) {
				names = append(names, n)
			}
		}
	}
	deleted := 0
	for _, n := range names {
		p.Invalidate(n)
		_, err := p.ec2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String(n)})
		if err != nil && !strings.HasPrefix(awsapi.ErrorCode(err), "InvalidLaunchTemplateName.NotFound") {
			return deleted, fmt.Errorf("deleting launch template %s: %w", n, err)
		}
		deleted++
	}
	return deleted, nil
}
