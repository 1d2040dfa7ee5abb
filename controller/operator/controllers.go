package operator

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/cloudprovider/awscloud"
	"github.com/nodewright/nodewright/controller/controllers/disruption"
	"github.com/nodewright/nodewright/controller/controllers/interruption"
	"github.com/nodewright/nodewright/controller/controllers/node/health"
	nodetermination "github.com/nodewright/nodewright/controller/controllers/node/termination"
	nodeclaimdisruption "github.com/nodewright/nodewright/controller/controllers/nodeclaim/disruption"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/expiration"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/garbagecollection"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/lifecycle"
	nodeclaimtermination "github.com/nodewright/nodewright/controller/controllers/nodeclaim/termination"
	"github.com/nodewright/nodewright/controller/controllers/nodeclass/status"
	"github.com/nodewright/nodewright/controller/controllers/nodepool/counter"
	"github.com/nodewright/nodewright/controller/controllers/nodepool/readiness"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
	"github.com/nodewright/nodewright/controller/simulate/recording"
	"github.com/nodewright/nodewright/controller/utils/index"
)

// registrar is what every controller offers the operator.
type registrar interface {
	Register(ctx context.Context, mgr manager.Manager) error
}

// RegisterControllers builds the AWS cloud provider and every controller,
// and registers them with the manager, after the cache indexes they share.
// This is the one place that says what runs: every controller, runnable
// and index is listed here, and they all record events through one
// events.EventRecorder.
func (o *Operator) RegisterControllers(ctx context.Context) error {
	clk := clock.RealClock{}
	kube := o.GetClient()
	recorder := o.GetEventRecorder("nodewright")
	cloud, err := awscloud.New(o.AWS, awscloud.Options{
		ClusterName: o.Options.ClusterName, ClusterEndpoint: o.Options.ClusterEndpoint, ClusterCABundle: o.Options.ClusterCABundle,
		Clock: clk, ICETTL: o.Options.ICETTL, KubernetesVersion: o.KubernetesVersion, Kube: kube,
	})
	if err != nil {
		return fmt.Errorf("creating the AWS cloud provider: %w", err)
	}
	if err := index.Register(ctx, o.Manager); err != nil {
		return err
	}
	repair, err := health.ParsePolicies(o.Options.RepairPolicies)
	if err != nil {
		return fmt.Errorf("--repair-policies (REPAIR_POLICIES): %w", err)
	}
	if len(repair) == 0 {
		o.Log.Info("node repair is off: REPAIR_POLICIES is empty")
	}
	prov, err := o.provisioner(kube, cloud, cloud.PricesReadAt, clk, recorder)
	if err != nil {
		return err
	}
	controllers := []registrar{
		// NodeClasses and NodePools
		status.NewController(kube, cloud, clk, recorder),
		counter.NewController(kube, cloud),
		readiness.NewController(kube),
		// pending pods → NodeClaims
		provisioning.NewController(kube, prov),
		// a NodeClaim's life: launch, register, initialize; drain and
		// terminate; collect what leaked
		lifecycle.NewController(kube, cloud, clk, recorder, lifecycle.Options{
			LaunchTimeout: o.Options.LaunchTimeout, RegistrationTimeout: o.Options.RegistrationTimeout}),
		nodeclaimtermination.NewController(kube, cloud, clk),
		nodetermination.NewController(kube, cloud, clk, recorder),
		// forceful: unhealthy nodes (bounded per pool)
		health.NewController(kube, clk, recorder, repair),
		garbagecollection.NewController(kube, cloud, clk, garbagecollection.Options{}),
		// disruption: the claims' conditions, then consolidation and drift
		nodeclaimdisruption.NewController(kube),
		// forceful: expiry, whatever do-not-disrupt or budgets say
		expiration.NewController(kube, clk, recorder),
		disruption.NewController(kube, cloud, clk, recorder, disruption.Options{
			ValidationDelay: o.Options.DisruptionValidationDelay, ReplacementTimeout: o.Options.DisruptionReplacementTimeout,
			Interval: o.Options.DisruptionInterval, Reader: o.GetAPIReader()}),
	}
	if o.Options.InterruptionQueue == "" {
		o.Log.Info("interruption handling is off: INTERRUPTION_QUEUE is not set")
	} else {
		ic, err := o.interruption(kube, cloud, prov, clk, recorder)
		if err != nil {
			return err
		}
		// spot warnings → replacements, then the drain of the claims they mark
		controllers = append(controllers, ic, ic.Drainer())
	}
	for _, c := range controllers {
		if err := c.Register(ctx, o.Manager); err != nil {
			return fmt.Errorf("registering %T: %w", c, err)
		}
	}
	return o.Add(warmInstanceTypes(kube, cloud))
}

// provisioner is the batcher and solver behind the provisioning controller;
// the interruption controller launches replacements through it too.
func (o *Operator) provisioner(kube client.Client, cloud cloudprovider.CloudProvider, pricesReadAt func() time.Time,
	clk clock.Clock, recorder events.EventRecorder) (*provisioning.Provisioner, error) {
	opts := provisioning.Options{
		BatchIdleDuration: o.Options.BatchIdleDuration, BatchMaxDuration: o.Options.BatchMaxDuration, APIReader: o.GetAPIReader(),
	}
	if dir := o.Options.RecordSolves; dir != "" {
		rec, err := recording.New(dir, o.AWS.Region, pricesReadAt, o.GetAPIReader())
		if err != nil {
			return nil, fmt.Errorf("--record-solves: %w", err)
		}
		opts.RecordSolve = rec.Record
		o.Log.Info("recording provisioning solves", "dir", dir)
	}
	return provisioning.New(kube, cloud, clk, recorder, opts), nil
}

// interruption is the interruption queue's consumer.
func (o *Operator) interruption(kube client.Client, cloud cloudprovider.CloudProvider, prov *provisioning.Provisioner,
	clk clock.Clock, recorder events.EventRecorder) (*interruption.Controller, error) {
	policy, err := interruption.ParseRebalancePolicy(o.Options.RebalancePolicy)
	if err != nil {
		return nil, fmt.Errorf("--rebalance-policy (REBALANCE_POLICY): %w", err)
	}
	return interruption.NewController(kube, cloud, prov, sqs.NewFromConfig(o.AWS), clk, recorder,
		interruption.Options{Queue: o.Options.InterruptionQueue, RebalancePolicy: policy,
			DeleteFraction: o.Options.InterruptionDrainFraction}), nil
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
