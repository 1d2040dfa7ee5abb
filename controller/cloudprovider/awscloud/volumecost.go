package awscloud

import (
	"context"
	"fmt"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/providers/pricing"
)

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
