package operator

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/controllers/interruption"
	"github.com/nodewright/nodewright/controller/controllers/provisioning"
)

// registerInterruption adds the interruption queue consumer.
func registerInterruption(ctx context.Context, o *Operator, kube client.Client, cloud cloudprovider.CloudProvider,
	prov *provisioning.Provisioner, clk clock.Clock, recorder record.EventRecorder) error {
	policy, err := interruption.ParseRebalancePolicy(o.Options.RebalancePolicy)
	if err != nil {
		return fmt.Errorf("--rebalance-policy (REBALANCE_POLICY): %w", err)
	}
	c := interruption.NewController(kube, cloud, prov, sqs.NewFromConfig(o.AWS), clk, recorder,
		interruption.Options{Queue: o.Options.InterruptionQueue, RebalancePolicy: policy, DeleteFraction: o.Options.InterruptionDrainFraction})
	if err := c.Register(ctx, o.Manager); err != nil {
		return fmt.Errorf("registering the interruption controller: %w", err)
	}
	return nil
}
