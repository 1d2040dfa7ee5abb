package awscloud_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/iampolicy"
)

// flow is one thing the controller does against AWS, run under the role
// after the administrator has prepared what it needs.
type flow struct {
	name string
	run  func(ctx context.Context, e *env) error
}

// controllerFlows are the controller's AWS paths: each calls what the
// controller's own code calls (the provider's methods; the interruption
// controller's and the operator's SDK calls, made the same way).
var controllerFlows = []flow{
	{"node-class resolution", func(ctx context.Context, e *env) error {
		return e.p.ResolveNodeClass(ctx, nodeClass("default"))
	}},
	{"node-class resolution (own AMI parameter)", func(ctx context.Context, e *env) error {
		if _, err := ssm.NewFromConfig(e.adminCfg).PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/team/amis/default"),
			Value: aws.String(imageID(nil, e)), Type: ssmtypes.ParameterTypeString}); err != nil {
			return err
		}
		nc := nodeClass("default")
		nc.Spec.AMISelectorTerms = []v1.AMISelectorTerm{{SSMParameter: "/team/amis/default"}}
		return e.p.ResolveNodeClass(ctx, nc)
	}},
	{"instance types and prices", func(ctx context.Context, e *env) error {
		if err := e.adminResolved(ctx); err != nil {
			return err
		}
		_, err := e.p.InstanceTypes(ctx, nodePool())
		return err
	}},
	{"provisioning (spot)", func(ctx context.Context, e *env) error {
		if err := e.adminResolved(ctx); err != nil {
			return err
		}
		_, err := e.p.Create(ctx, nodeClaim("default-spot", in(corev1.LabelInstanceTypeStable, "m5.large"), in(v1.CapacityTypeLabelKey, v1.CapacityTypeSpot)))
		return err
	}},
	{"provisioning (on-demand)", func(ctx context.Context, e *env) error {
		if err := e.adminResolved(ctx); err != nil {
			return err
		}
		_, err := e.p.Create(ctx, nodeClaim("default-od", in(corev1.LabelInstanceTypeStable, "m5.large"), in(v1.CapacityTypeLabelKey, v1.CapacityTypeOnDemand)))
		return err
	}},
	{"read and garbage collection", func(ctx context.Context, e *env) error {
		out, err := e.adminLaunched(ctx)
		if err != nil {
			return err
		}
		if _, err := e.p.Get(ctx, out.Status.ProviderID); err != nil {
			return err
		}
		_, err = e.p.List(ctx)
		return err
	}},
	{"disruption and termination", func(ctx context.Context, e *env) error {
		out, err := e.adminLaunched(ctx)
		if err != nil {
			return err
		}
		return e.p.Delete(ctx, out)
	}},
	{"teardown", func(ctx context.Context, e *env) error {
		if _, err := e.adminLaunched(ctx); err != nil {
			return err
		}
		if _, err := e.p.DeleteLaunchTemplates(ctx, ""); err != nil {
			return err
		}
		var nc v1.EC2NodeClass
		if err := e.kube.Get(ctx, clientKey("default"), &nc); err != nil {
			return err
		}
		return e.p.DeleteInstanceProfile(ctx, &nc)
	}},
	{"interruption", func(ctx context.Context, e *env) error {
		admin := sqs.NewFromConfig(e.adminCfg)
		url, err := admin.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("interruption")})
		if err != nil {
			return err
		}
		if _, err := admin.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String(`{"detail-type":"EC2 Spot Instance Interruption Warning"}`)}); err != nil {
			return err
		}
		c := sqs.NewFromConfig(e.cfg)
		if _, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("interruption")}); err != nil {
			return err
		}
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url.QueueUrl, MaxNumberOfMessages: 10})
		if err != nil {
			return err
		}
		for _, m := range out.Messages {
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
				return err
			}
		}
		return nil
	}},
	{"cluster discovery", func(ctx context.Context, e *env) error {
		_, err := eks.NewFromConfig(e.cfg).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(clusterName)})
		return err
	}},
}

// adminResolved resolves the default node class as the administrator.
func (e *env) adminResolved(ctx context.Context) error {
	nc := nodeClass("default")
	if err := e.admin.ResolveNodeClass(ctx, nc); err != nil {
		return err
	}
	st := nc.Status
	if err := e.kube.Create(ctx, nc); err != nil {
		return err
	}
	nc.Status = st
	return e.kube.Status().Update(ctx, nc)
}

// adminLaunched launches one node as the administrator.
func (e *env) adminLaunched(ctx context.Context) (*v1.NodeClaim, error) {
	if err := e.adminResolved(ctx); err != nil {
		return nil, err
	}
	return e.admin.Create(ctx, nodeClaim("default-admin", in(corev1.LabelInstanceTypeStable, "m5.large")))
}

// TestLeastPrivilege removes each statement of the controller policy in
// turn, and each action of each statement, and runs every flow: every
// statement and action must be needed by some flow (or be named in
// iampolicy.NoFailingFlow), and the flows that need each statement must be the ones
// iampolicy.StatementFlows documents. The full policy must run them all.
// make test-iam runs it; it takes a minute.
func TestLeastPrivilege(t *testing.T) {
	if os.Getenv("NODEWRIGHT_IAM_SWEEP") == "" {
		t.Skip("the least-privilege sweep runs under make test-iam (NODEWRIGHT_IAM_SWEEP=1)")
	}
	full := iampolicy.Statements(policyOptions())
	failing := func(without func([]iampolicy.Statement) []iampolicy.Statement) []string {
		var names []string
		for _, f := range controllerFlows {
			e := underRole(t, without)
			if err := f.run(context.Background(), e); err != nil {
				if !isDenied(err) && !strings.Contains(err.Error(), "UnauthorizedOperation") && !strings.Contains(err.Error(), "AccessDenied") {
					t.Errorf("%s fails for a reason other than authorization: %v", f.name, err)
				}
				names = append(names, f.name)
			}
		}
		return names
	}
	if got := failing(nil); len(got) > 0 {
		t.Fatalf("flows fail under the full policy: %v", got)
	}
	measured := map[string][]string{}
	for i, st := range full {
		needs := failing(func(sts []iampolicy.Statement) []iampolicy.Statement { return slices.Delete(slices.Clone(sts), i, i+1) })
		measured[st.Sid] = needs
		if len(needs) == 0 && iampolicy.NoFailingFlow[st.Sid] == "" {
			t.Errorf("statement %s is needed by no flow", st.Sid)
		}
		for j, action := range st.Action {
			if len(st.Action) == 1 {
				break
			}
			if iampolicy.NoFailingFlow[st.Sid] != "" {
				continue
			}
			broke := failing(func(sts []iampolicy.Statement) []iampolicy.Statement {
				out := slices.Clone(sts)
				out[i].Action = slices.Delete(slices.Clone(st.Action), j, j+1)
				return out
			})
			if len(broke) == 0 {
				t.Errorf("%s: action %s is needed by no flow", st.Sid, action)
			}
		}
	}
	var b strings.Builder
	for _, st := range full {
		fmt.Fprintf(&b, "%s: %s\n", st.Sid, strings.Join(measured[st.Sid], ", "))
	}
	t.Logf("statement -> flows, measured:\n%s", b.String())
	for _, st := range full {
		if want := iampolicy.StatementFlows[st.Sid]; !slices.Equal(want, measured[st.Sid]) {
			t.Errorf("%s: iampolicy.StatementFlows says %v, measured %v", st.Sid, want, measured[st.Sid])
		}
	}
}
