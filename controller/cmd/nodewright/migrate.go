package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/nodewright/nodewright/controller/operator"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nodewright/nodewright/controller/migrate"
)

const migrateUsage = `usage: nodewright migrate [--kubeconfig FILE] [flags]

Reads a live cluster that runs Karpenter: its NodePools, Provisioners and
node classes (each API group's preferred version), and its NodeClaims.
Writes the converted configuration to standard output, as convert does;
on standard error, the conversion's findings, Karpenter's nodes and what
becomes of them, and the steps of a safe cut-over, in order. It changes
nothing unless --adopt is given.

With --adopt, once Karpenter is scaled to 0 and modules/nodewright is
applied, it hands Karpenter's running nodes to nodewright without a
relaunch: it creates the converted NodePools and EC2NodeClasses, makes a
nodewright NodeClaim for each node, tags its instance for nodewright
(AWS credentials from the usual environment and profile), releases the
node from Karpenter's finalizer and deletes Karpenter's NodeClaim. The
Terraform it writes imports what it created.

flags:
`

func migrateCmd(args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the cluster (default: $KUBECONFIG, then ~/.kube/config)")
	conv := addConversionFlags(fs)
	adopt := fs.Bool("adopt", false, "hand Karpenter's running nodes to nodewright without a relaunch (Karpenter must be scaled to 0, and modules/nodewright applied)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), migrateUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := conv.validate(); err != nil {
		return err
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = *kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx := context.Background()
	rep, err := migrate.Read(ctx, disc, dyn, conv.options())
	if err != nil {
		return err
	}
	var adoption *migrate.Adoption
	if *adopt {
		if rep.Conversion.Lossy() && !*conv.allowLossy {
			return errors.New("--adopt creates the converted objects, and the conversion loses meaning (run without --adopt to see the findings); fix the input, or pass --allow-lossy to accept it")
		}
		s, err := operator.Scheme()
		if err != nil {
			return err
		}
		kube, err := client.New(cfg, client.Options{Scheme: s})
		if err != nil {
			return err
		}
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("AWS configuration, for tagging the adopted instances: %w", err)
		}
		adoption, err = migrate.Adopt(ctx, kube, dyn, ec2.NewFromConfig(awsCfg), rep)
		if adoption != nil {
			for _, c := range adoption.Created {
				fmt.Fprintf(errOut, "created %s\n", c)
			}
			for _, a := range adoption.Adopted {
				fmt.Fprintf(errOut, "adopted karpenter nodeclaim %s: nodewright manages its node\n", a)
			}
			for _, l := range adoption.Left {
				fmt.Fprintf(errOut, "left karpenter nodeclaim %s\n", l)
			}
		}
		if err != nil {
			return err
		}
	}
	for _, r := range rep.Read {
		fmt.Fprintf(errOut, "read %s\n", r)
	}
	for _, m := range rep.Machines {
		to := "no converted pool takes its pods"
		if m.Pool != "" {
			to = "its pods move to nodewright NodePool " + m.Pool
		}
		fmt.Fprintf(errOut, "karpenter nodeclaim %s: node %s, %s %s in %s (nodepool %s); it stays with Karpenter until step 4, then %s\n",
			m.NodeClaim, m.Node, m.InstanceType, m.CapacityType, m.Zone, m.NodePool, to)
	}
	writeErr := conv.write(rep.Conversion, out, errOut)
	steps := rep.Steps()
	if adoption != nil {
		steps = adoption.AdoptSteps()
	}
	fmt.Fprintln(errOut, "cut-over:")
	for i, s := range steps {
		fmt.Fprintf(errOut, "  %d. %s\n", i+1, s)
	}
	return writeErr
}
