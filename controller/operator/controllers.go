package operator

import (
	"context"
	"fmt"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/cloudprovider/awscloud"
	"github.com/nodewright/nodewright/controller/controllers/disruption"
	nodeclaimdisruption "github.com/nodewright/nodewright/controller/controllers/nodeclaim/disruption"
	"github.com/nodewright/nodewright/controller/controllers/nodeclass/status"
	"github.com/nodewright/nodewright/controller/controllers/nodepool/counter"
	"github.com/nodewright/nodewright/controller/controllers/nodepool/readiness"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
	provisioningcontroller "github.com/nodewright/nodewright/controller/controllers/provisioning"
	"github.com/nodewright/nodewright/controller/simulate/recording"
)

// registrar is what every controller offers the operator.
type registrar interface {
	Register(ctx context.Context, mgr manager.Manager) error
}

// RegisterControllers builds the AWS cloud provider and every controller,
// and registers them with the manager.
func (o *Operator) RegisterControllers(ctx context.Context) error {
	clk := clock.RealClock{}
	kube := o.GetClient()
	recorder := o.GetEventRecorderFor("nodewright")
	cloud, err := awscloud.New(o.AWS, awscloud.Options{
		ClusterName: o.Options.ClusterName, ClusterEndpoint: o.Options.ClusterEndpoint, ClusterCABundle: o.Options.ClusterCABundle,
		Clock: clk, ICETTL: o.Options.ICETTL, KubernetesVersion: o.KubernetesVersion, Kube: kube,
	})
	if err != nil {
		return fmt.Errorf("creating the AWS cloud provider: %w", err)
	}
	provOpts := provisioning.Options{
		BatchIdleDuration: o.Options.BatchIdleDuration, BatchMaxDuration: o.Options.BatchMaxDuration, Reader: o.GetAPIReader(),
	}
	if dir := o.Options.RecordSolves; dir != "" {
		rec, err := recording.New(dir, o.AWS.Region, cloud.PricesReadAt, o.GetAPIReader())
		if err != nil {
			return fmt.Errorf("--record-solves: %w", err)
		}
		provOpts.RecordSolve = rec.Record
		o.Log.Info("recording provisioning solves", "dir", dir)
	}
	prov := provisioning.New(kube, cloud, clk, recorder, provOpts)
	controllers := []registrar{
		status.NewController(kube, cloud, clk),
		provisioningcontroller.NewController(kube, prov),
		counter.NewController(kube),
		readiness.NewController(kube),
		disruption.NewController(kube, cloud, clk, o.GetEventRecorder("nodewright"), disruption.Options{
			ValidationDelay: o.Options.DisruptionValidationDelay, ReplacementTimeout: o.Options.DisruptionReplacementTimeout,
			Interval: o.Options.DisruptionInterval, Reader: o.GetAPIReader()}),
		nodeclaimdisruption.NewController(kube),
	}
	controllers = append(controllers, o.lifecycleControllers(kube, cloud, clk)...)
	for _, c := range controllers {
		if err := c.Register(ctx, o.Manager); err != nil {
			return fmt.Errorf("registering %T: %w", c, err)
		}
	}
	if err := o.Add(warmInstanceTypes(kube, cloud)); err != nil {
		return err
	}
	if o.Options.InterruptionQueue == "" {
		o.Log.Info("interruption handling is off: INTERRUPTION_QUEUE is not set")
	} else if err := registerInterruption(ctx, o, kube, cloud, prov, clk, recorder); err != nil {
		return err
	}
	return nil
}

// warmInstanceTypes fills the instance-type and price caches at start-up, so
// the first pending pods don't wait for instance-type discovery.
func warmInstanceTypes(kube client.Client, cloud cloudprovider.CloudProvider) manager.RunnableFunc {
	return func(ctx context.Context) error {
		var pools v1.NodePoolList
		if err := kube.List(ctx, &pools); err != nil {
			log.FromContext(ctx).Error(err, "warming instance types: listing nodepools")
			return nil
		}
		for i := range pools.Items {
			if _, err := cloud.InstanceTypes(ctx, &pools.Items[i]); err != nil {
				log.FromContext(ctx).V(1).Info("warming instance types", "nodepool", pools.Items[i].Name, "error", err.Error())
			}
		}
		return nil
	}
}
