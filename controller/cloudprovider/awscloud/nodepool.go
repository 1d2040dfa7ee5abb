package awscloud

// What a NodePool can launch and what its nodes' volumes cost, from its
// EC2NodeClass.

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/providers/pricing"
)

// InstanceTypes implements cloudprovider.CloudProvider: the types the
// NodePool's EC2NodeClass can launch, offered only in zones where it has a
// subnet, only in architectures it has an image for, with prices and ICE
// state.
func (p *CloudProvider) InstanceTypes(ctx context.Context, np *v1.NodePool) ([]*scheduling.InstanceType, error) {
	ref := np.Spec.Template.Spec.NodeClassRef
	if ref == nil {
		return nil, fmt.Errorf("nodepool %s has no nodeClassRef", np.Name)
	}
	nc, err := p.nodeClass(ctx, ref.Name)
	if err != nil {
		return nil, err
	}
	return p.instanceTypes.List(ctx, nc)
}

// nodeClass reads an EC2NodeClass; a missing or unresolved one is a
// NodeClassNotReadyError, which callers retry.
func (p *CloudProvider) nodeClass(ctx context.Context, name string) (*v1.EC2NodeClass, error) {
	if p.kube == nil {
		return nil, fmt.Errorf("aws cloud provider has no Kubernetes client to read EC2NodeClass %s", name)
	}
	nc := &v1.EC2NodeClass{}
	if err := p.kube.Get(ctx, client.ObjectKey{Name: name}, nc); err != nil {
		return nil, &cloudprovider.NodeClassNotReadyError{Err: fmt.Errorf("getting EC2NodeClass %s: %w", name, err)}
	}
	if len(nc.Status.Subnets) == 0 || len(nc.Status.AMIs) == 0 {
		return nil, &cloudprovider.NodeClassNotReadyError{Err: fmt.Errorf("EC2NodeClass %s has no resolved subnets or AMIs yet", name)}
	}
	return nc, nil
}

// NodeVolumeCost implements cloudprovider.CloudProvider: the $/h of the
// volumes of a node of the NodePool, from its EC2NodeClass.
func (p *CloudProvider) NodeVolumeCost(ctx context.Context, np *v1.NodePool) (float64, error) {
	ref := np.Spec.Template.Spec.NodeClassRef
	if ref == nil {
		return 0, fmt.Errorf("nodepool %s has no nodeClassRef", np.Name)
	}
	nc, err := p.nodeClass(ctx, ref.Name)
	if err != nil {
		return 0, err
	}
	return pricing.VolumeCost(nc, p.opts.Region)
}
