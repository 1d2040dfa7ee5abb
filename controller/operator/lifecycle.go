package operator

import (
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewright/nodewright/controller/cloudprovider"
	nodetermination "github.com/nodewright/nodewright/controller/controllers/node/termination"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/garbagecollection"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/lifecycle"
	nodeclaimtermination "github.com/nodewright/nodewright/controller/controllers/nodeclaim/termination"
)

// lifecycleControllers are the NodeClaim and Node lifecycle controllers.
func (o *Operator) lifecycleControllers(kube client.Client, cloud cloudprovider.CloudProvider, clk clock.Clock) []registrar {
	recorder := o.GetEventRecorder("nodewright")
	return []registrar{
		lifecycle.NewController(kube, cloud, clk, recorder, lifecycle.Options{
			LaunchTimeout: o.Options.LaunchTimeout, RegistrationTimeout: o.Options.RegistrationTimeout}),
		nodeclaimtermination.NewController(kube, cloud, clk),
		nodetermination.NewController(kube, cloud, clk, recorder),
		garbagecollection.NewController(kube, cloud, clk, garbagecollection.Options{}),
	}
}
