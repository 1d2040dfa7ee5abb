package operator

import (
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewright/nodewright/controller/cloudprovider"
)

// lifecycleControllers are the NodeClaim and Node lifecycle controllers.
func (o *Operator) lifecycleControllers(kube client.Client, cloud cloudprovider.CloudProvider, clk clock.Clock, recorder record.EventRecorder) []registrar {
	return nil
}
