package disruption_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/controllers/nodeclaim/disruption"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/controller/test/expectations"
	"github.com/nodewright/nodewright/test/kubetest"
)

var env *test.Env

func TestMain(m *testing.M) { os.Exit(test.Main(m, &env)) }

// world is one case's pool, node class and launched claim, as stored.
type world struct {
	pool  *v1.NodePool
	class *v1.EC2NodeClass
	claim *v1.NodeClaim
}

// newWorld stores a pool on m5.large/m5.xlarge on-demand in two zones, a
// resolved node class (ami-1, subnet-a/subnet-b, sg-1/sg-2) and a claim
// launched from both, in step with them.
func newWorld(t *testing.T, ctx context.Context, launched bool) *world {
	t.Helper()
	kube := env.Client
	class := test.EC2NodeClass(test.EC2NodeClassOptions{})
	class.GenerateName = "drift-"
	class.Spec.Role = "node-role"
	expectations.ExpectCreated(ctx, t, kube, class)
	class.Status = v1.EC2NodeClassStatus{
		Subnets:        []v1.Subnet{{ID: "subnet-a", Zone: "us-east-1a"}, {ID: "subnet-b", Zone: "us-east-1b"}},
		SecurityGroups: []v1.SecurityGroup{{ID: "sg-1"}, {ID: "sg-2"}},
		AMIs:           []v1.AMI{{ID: "ami-1", Requirements: []corev1.NodeSelectorRequirement{{Key: corev1.LabelArchStable, Operator: corev1.NodeSelectorOpIn, Values: []string{"amd64"}}}}},
	}
	if err := kube.Status().Update(ctx, class); err != nil {
		t.Fatal(err)
	}
	np := test.NodePool(test.NodePoolOptions{NodeClass: class.Name, Labels: map[string]string{"team": "a"}})
	np.GenerateName = "drift-"
	np.Spec.Template.Spec.Requirements = []v1.NodeSelectorRequirementWithMinValues{
		{Key: corev1.LabelInstanceTypeStable, Operator: corev1.NodeSelectorOpIn, Values: []string{"m5.large", "m5.xlarge"}},
		{Key: corev1.LabelTopologyZone, Operator: corev1.NodeSelectorOpIn, Values: []string{"us-east-1a", "us-east-1b"}},
		{Key: v1.CapacityTypeLabelKey, Operator: corev1.NodeSelectorOpIn, Values: []string{v1.CapacityTypeOnDemand}},
	}
	if err := kube.Create(ctx, np); err != nil {
		t.Fatal(err)
	}
	nc := test.NodeClaim(test.NodeClaimOptions{NodePool: np.Name})
	nc.Spec.NodeClassRef.Name = class.Name
	nc.Labels[corev1.LabelInstanceTypeStable] = "m5.large"
	nc.Labels[corev1.LabelTopologyZone] = "us-east-1a"
	nc.Labels[v1.CapacityTypeLabelKey] = v1.CapacityTypeOnDemand
	nc.Labels[v1.InstanceFamilyLabel] = "m5"
	nc.Annotations = map[string]string{
		v1.NodePoolHashAnnotationKey:        np.Hash(),
		v1.NodePoolHashVersionAnnotationKey: v1.NodePoolHashVersion,
		// As launch stamps them, from the node class as created.
		v1.EC2NodeClassHashAnnotationKey:        class.Hash(),
		v1.EC2NodeClassHashVersionAnnotationKey: v1.EC2NodeClassHashVersion,
		v1.SubnetIDAnnotationKey:                "subnet-a",
		v1.SecurityGroupIDsAnnotationKey:        "sg-1,sg-2",
	}
	if err := kube.Create(ctx, nc); err != nil {
		t.Fatal(err)
	}
	nc.Status.ImageID = "ami-1"
	nc.Status.ProviderID = "aws:///us-east-1a/i-0123"
	if launched {
		nc.SetCondition(v1.ConditionTypeLaunched, metav1.ConditionTrue, "Launched", "")
	}
	if err := kube.Status().Update(ctx, nc); err != nil {
		t.Fatal(err)
	}
	return &world{pool: np, class: class, claim: nc}
}

func (w *world) updatePool(t *testing.T, ctx context.Context, mutate func(*v1.NodePool)) {
	t.Helper()
	if err := kubetest.Update(ctx, env.Client, w.pool, mutate); err != nil {
		t.Fatal(err)
	}
}

func (w *world) updateClass(t *testing.T, ctx context.Context, mutate func(*v1.EC2NodeClass)) {
	t.Helper()
	if err := kubetest.Update(ctx, env.Client, w.class, mutate); err != nil {
		t.Fatal(err)
	}
}

func (w *world) updateClassStatus(t *testing.T, ctx context.Context, mutate func(*v1.EC2NodeClassStatus)) {
	t.Helper()
	if err := kubetest.UpdateStatus(ctx, env.Client, w.class, func(c *v1.EC2NodeClass) { mutate(&c.Status) }); err != nil {
		t.Fatal(err)
	}
}

func (w *world) updateClaim(t *testing.T, ctx context.Context, mutate func(*v1.NodeClaim)) {
	t.Helper()
	if err := kubetest.Update(ctx, env.Client, w.claim, mutate); err != nil {
		t.Fatal(err)
	}
}

func TestDrifted(t *testing.T) {
	cases := []struct {
		name     string
		launched bool
		change   func(t *testing.T, ctx context.Context, w *world)
		// status "" means no Drifted condition at all.
		status  metav1.ConditionStatus
		reason  string
		message func(w *world, oldHash string) string
	}{
		{name: "in step", launched: true, status: metav1.ConditionFalse, reason: disruption.ReasonNotDrifted,
			message: func(*world, string) string { return "" }},
		{name: "not launched", launched: false, status: "",
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updatePool(t, ctx, func(np *v1.NodePool) { np.Spec.Template.ObjectMeta.Labels["team"] = "b" })
			}},
		{name: "template label changed", launched: true, status: metav1.ConditionTrue, reason: disruption.ReasonNodePoolDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updatePool(t, ctx, func(np *v1.NodePool) { np.Spec.Template.ObjectMeta.Labels["team"] = "b" })
			},
			message: func(w *world, old string) string { return "nodepool template hash " + old + " != " + w.pool.Hash() }},
		{name: "fields outside the hash changed", launched: true, status: metav1.ConditionFalse, reason: disruption.ReasonNotDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updatePool(t, ctx, func(np *v1.NodePool) {
					np.Spec.Template.Spec.ExpireAfter = "1h"
					np.Spec.Disruption.ConsolidateAfter = "5m"
				})
			},
			message: func(*world, string) string { return "" }},
		{name: "hash version changed is re-stamped, not drift", launched: true, status: metav1.ConditionFalse, reason: disruption.ReasonNotDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updateClaim(t, ctx, func(nc *v1.NodeClaim) {
					nc.Annotations[v1.NodePoolHashAnnotationKey] = "computed-differently"
					nc.Annotations[v1.NodePoolHashVersionAnnotationKey] = "v0"
				})
			},
			message: func(*world, string) string { return "" }},
		{name: "instance type no longer allowed", launched: true, status: metav1.ConditionTrue, reason: disruption.ReasonRequirementsDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updatePool(t, ctx, func(np *v1.NodePool) { np.Spec.Template.Spec.Requirements[0].Values = []string{"m5.xlarge"} })
			},
			message: func(*world, string) string {
				return "label node.kubernetes.io/instance-type=m5.large no longer satisfies the nodepool's requirement node.kubernetes.io/instance-type In [m5.xlarge]"
			}},
		{name: "requirements widened", launched: true, status: metav1.ConditionFalse, reason: disruption.ReasonNotDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updatePool(t, ctx, func(np *v1.NodePool) {
					np.Spec.Template.Spec.Requirements[0].Values = append(np.Spec.Template.Spec.Requirements[0].Values, "m5.2xlarge")
					np.Spec.Template.Spec.Requirements[2].Values = append(np.Spec.Template.Spec.Requirements[2].Values, v1.CapacityTypeSpot)
				})
			},
			message: func(*world, string) string { return "" }},
		{name: "narrowed, but the claim still fits", launched: true, status: metav1.ConditionFalse, reason: disruption.ReasonNotDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updatePool(t, ctx, func(np *v1.NodePool) { np.Spec.Template.Spec.Requirements[0].Values = []string{"m5.large"} })
			},
			message: func(*world, string) string { return "" }},
		{name: "requirement on a key the claim has no label for", launched: true, status: metav1.ConditionFalse, reason: disruption.ReasonNotDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updatePool(t, ctx, func(np *v1.NodePool) {
					np.Spec.Template.Spec.Requirements = append(np.Spec.Template.Spec.Requirements,
						v1.NodeSelectorRequirementWithMinValues{Key: corev1.LabelArchStable, Operator: corev1.NodeSelectorOpIn, Values: []string{"arm64"}})
				})
			},
			message: func(*world, string) string { return "" }},
		{name: "instance family ruled out by a new requirement", launched: true, status: metav1.ConditionTrue, reason: disruption.ReasonRequirementsDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updatePool(t, ctx, func(np *v1.NodePool) {
					np.Spec.Template.Spec.Requirements = append(np.Spec.Template.Spec.Requirements,
						v1.NodeSelectorRequirementWithMinValues{Key: v1.InstanceFamilyLabel, Operator: corev1.NodeSelectorOpNotIn, Values: []string{"m5"}})
				})
			},
			message: func(*world, string) string {
				return "label nodewright.dev/instance-family=m5 no longer satisfies the nodepool's requirement nodewright.dev/instance-family NotIn [m5]"
			}},
		{name: "zone no longer allowed", launched: true, status: metav1.ConditionTrue, reason: disruption.ReasonRequirementsDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updatePool(t, ctx, func(np *v1.NodePool) {
					np.Spec.Template.Spec.Requirements[1].Operator = corev1.NodeSelectorOpNotIn
					np.Spec.Template.Spec.Requirements[1].Values = []string{"us-east-1a"}
				})
			},
			message: func(*world, string) string {
				return "label topology.kubernetes.io/zone=us-east-1a no longer satisfies the nodepool's requirement topology.kubernetes.io/zone NotIn [us-east-1a]"
			}},
		{name: "capacity type no longer allowed", launched: true, status: metav1.ConditionTrue, reason: disruption.ReasonRequirementsDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updatePool(t, ctx, func(np *v1.NodePool) { np.Spec.Template.Spec.Requirements[2].Values = []string{v1.CapacityTypeSpot} })
			},
			message: func(*world, string) string {
				return "label nodewright.dev/capacity-type=on-demand no longer satisfies the nodepool's requirement nodewright.dev/capacity-type In [spot]"
			}},
		{name: "node class user data changed", launched: true, status: metav1.ConditionTrue, reason: disruption.ReasonNodeClassDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updateClass(t, ctx, func(nc *v1.EC2NodeClass) { nc.Spec.UserData = ptr.To("#!/bin/bash\necho hello") })
			},
			message: func(w *world, _ string) string {
				return "ec2nodeclass " + w.class.Name + " hash " + w.claim.Annotations[v1.EC2NodeClassHashAnnotationKey] + " != " + w.class.Hash()
			}},
		{name: "node class tags changed", launched: true, status: metav1.ConditionTrue, reason: disruption.ReasonNodeClassDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updateClass(t, ctx, func(nc *v1.EC2NodeClass) { nc.Spec.Tags = map[string]string{"team": "billing"} })
			},
			message: func(w *world, _ string) string {
				return "ec2nodeclass " + w.class.Name + " hash " + w.claim.Annotations[v1.EC2NodeClassHashAnnotationKey] + " != " + w.class.Hash()
			}},
		{name: "node class selector rewritten, same subnets", launched: true, status: metav1.ConditionFalse, reason: disruption.ReasonNotDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updateClass(t, ctx, func(nc *v1.EC2NodeClass) {
					nc.Spec.SubnetSelectorTerms = []v1.SubnetSelectorTerm{{Tags: map[string]string{"renamed": "yes"}}}
				})
			},
			message: func(*world, string) string { return "" }},
		{name: "AMI replaced", launched: true, status: metav1.ConditionTrue, reason: disruption.ReasonAMIDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updateClassStatus(t, ctx, func(s *v1.EC2NodeClassStatus) { s.AMIs[0].ID = "ami-2" })
			},
			message: func(*world, string) string { return "image ami-1 is no longer among the node class's AMIs [ami-2]" }},
		{name: "AMI added alongside", launched: true, status: metav1.ConditionFalse, reason: disruption.ReasonNotDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updateClassStatus(t, ctx, func(s *v1.EC2NodeClassStatus) {
					s.AMIs = append(s.AMIs, v1.AMI{ID: "ami-arm", Requirements: []corev1.NodeSelectorRequirement{{Key: corev1.LabelArchStable, Operator: corev1.NodeSelectorOpIn, Values: []string{"arm64"}}}})
				})
			},
			message: func(*world, string) string { return "" }},
		{name: "subnet no longer selected", launched: true, status: metav1.ConditionTrue, reason: disruption.ReasonSubnetDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updateClassStatus(t, ctx, func(s *v1.EC2NodeClassStatus) { s.Subnets = []v1.Subnet{{ID: "subnet-c", Zone: "us-east-1a"}} })
			},
			message: func(*world, string) string {
				return "subnet subnet-a is no longer among the node class's subnets [subnet-c]"
			}},
		{name: "security group added", launched: true, status: metav1.ConditionTrue, reason: disruption.ReasonSecurityGroupDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				w.updateClassStatus(t, ctx, func(s *v1.EC2NodeClassStatus) {
					s.SecurityGroups = append(s.SecurityGroups, v1.SecurityGroup{ID: "sg-0"})
				})
			},
			message: func(*world, string) string { return "security groups [sg-1 sg-2] != the node class's [sg-0 sg-1 sg-2]" }},
		{name: "node class gone", launched: true, status: metav1.ConditionFalse, reason: disruption.ReasonNotDrifted,
			change: func(t *testing.T, ctx context.Context, w *world) {
				if err := env.Client.Delete(ctx, w.class); err != nil {
					t.Fatal(err)
				}
			},
			message: func(*world, string) string { return "" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, ctx, tc.launched)
			oldHash := w.pool.Hash()
			if tc.change != nil {
				tc.change(t, ctx, w)
			}
			ctrl := disruption.NewController(env.Client)
			claim := getClaim(t, ctx, w.claim.Name)
			res, err := ctrl.Reconcile(ctx, claim)
			if err != nil {
				t.Fatal(err)
			}
			got := getClaim(t, ctx, w.claim.Name)
			cond := got.GetCondition(v1.ConditionTypeDrifted)
			if tc.status == "" {
				if cond != nil {
					t.Fatalf("condition %+v on an unlaunched claim", cond)
				}
				if res.RequeueAfter != 0 {
					t.Errorf("requeue %v for an unlaunched claim", res.RequeueAfter)
				}
				return
			}
			if cond == nil {
				t.Fatalf("no Drifted condition: %+v", got.Status.Conditions)
			}
			if cond.Status != tc.status || cond.Reason != tc.reason || cond.Message != tc.message(w, oldHash) {
				t.Errorf("Drifted = %s/%s %q, want %s/%s %q", cond.Status, cond.Reason, cond.Message, tc.status, tc.reason, tc.message(w, oldHash))
			}
			if res.RequeueAfter != 5*time.Minute {
				t.Errorf("requeue after %v, want 5m", res.RequeueAfter)
			}
			if v := got.Annotations[v1.NodePoolHashVersionAnnotationKey]; v != v1.NodePoolHashVersion {
				t.Errorf("hash version %q, want %q", v, v1.NodePoolHashVersion)
			}
			if h := got.Annotations[v1.NodePoolHashAnnotationKey]; tc.reason == disruption.ReasonNotDrifted && h != w.pool.Hash() {
				t.Errorf("hash annotation %q, want the pool's %q", h, w.pool.Hash())
			}
			// Other conditions survive the patch.
			if tc.launched && !got.IsTrue(v1.ConditionTypeLaunched) {
				t.Errorf("Launched condition lost: %+v", got.Status.Conditions)
			}
		})
	}
}

// TestDriftClears: a claim that drifted and whose pool was changed back is
// marked NotDrifted again, and an unchanged verdict writes nothing.
func TestDriftClears(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, ctx, true)
	ctrl := disruption.NewController(env.Client)
	reconcileStatus := func() *metav1.Condition {
		t.Helper()
		if _, err := ctrl.Reconcile(ctx, getClaim(t, ctx, w.claim.Name)); err != nil {
			t.Fatal(err)
		}
		return getClaim(t, ctx, w.claim.Name).GetCondition(v1.ConditionTypeDrifted)
	}
	w.updateClassStatus(t, ctx, func(s *v1.EC2NodeClassStatus) { s.AMIs[0].ID = "ami-2" })
	if c := reconcileStatus(); c == nil || c.Status != metav1.ConditionTrue || c.Reason != disruption.ReasonAMIDrifted {
		t.Fatalf("after AMI change: %+v", c)
	}
	before := getClaim(t, ctx, w.claim.Name).ResourceVersion
	if c := reconcileStatus(); c.Status != metav1.ConditionTrue {
		t.Fatalf("second reconcile: %+v", c)
	}
	if after := getClaim(t, ctx, w.claim.Name).ResourceVersion; after != before {
		t.Errorf("unchanged verdict rewrote the claim: %s -> %s", before, after)
	}
	w.updateClassStatus(t, ctx, func(s *v1.EC2NodeClassStatus) { s.AMIs[0].ID = "ami-1" })
	if c := reconcileStatus(); c == nil || c.Status != metav1.ConditionFalse || c.Reason != disruption.ReasonNotDrifted || c.Message != "" {
		t.Fatalf("after reverting: %+v", c)
	}
}

// TestDetectOrder: with several differences the most specific one is named.
func TestDetectOrder(t *testing.T) {
	np := test.NodePool(test.NodePoolOptions{Name: "p"})
	np.Spec.Template.Spec.Requirements = []v1.NodeSelectorRequirementWithMinValues{
		{Key: corev1.LabelInstanceTypeStable, Operator: corev1.NodeSelectorOpIn, Values: []string{"c5.large"}},
	}
	class := &v1.EC2NodeClass{Status: v1.EC2NodeClassStatus{AMIs: []v1.AMI{{ID: "ami-2"}}}}
	nc := test.NodeClaim(test.NodeClaimOptions{NodePool: "p"})
	nc.Labels[corev1.LabelInstanceTypeStable] = "m5.large"
	nc.Annotations = map[string]string{v1.NodePoolHashAnnotationKey: "stale", v1.NodePoolHashVersionAnnotationKey: v1.NodePoolHashVersion}
	nc.Status.ImageID = "ami-1"
	steps := []string{disruption.ReasonRequirementsDrifted, disruption.ReasonNodePoolDrifted, disruption.ReasonAMIDrifted, ""}
	for i, want := range steps {
		d := disruption.Detect(np, class, nc)
		got := ""
		if d != nil {
			got = d.Reason
		}
		if got != want {
			t.Fatalf("step %d: reason %q, want %q", i, got, want)
		}
		switch i {
		case 0:
			nc.Labels[corev1.LabelInstanceTypeStable] = "c5.large"
		case 1:
			nc.Annotations[v1.NodePoolHashAnnotationKey] = np.Hash()
		case 2:
			nc.Status.ImageID = "ami-2"
		}
	}
	// Without a node class only the pool is compared.
	nc.Status.ImageID = "ami-9"
	if d := disruption.Detect(np, nil, nc); d != nil {
		t.Errorf("drift %+v without a node class", d)
	}
	if !strings.Contains(disruption.Detect(np, class, nc).Message, "ami-9") {
		t.Errorf("message doesn't name the image")
	}
}

func getClaim(t *testing.T, ctx context.Context, name string) *v1.NodeClaim {
	t.Helper()
	var nc v1.NodeClaim
	if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &nc); err != nil {
		t.Fatal(err)
	}
	return &nc
}

// TestDriftConflictIsNoError: another writer changed the claim between the
// read and the patch (the lifecycle controller during a launch). Nothing
// stale is written and no error is logged; that write's update event
// judges the fresh claim again.
func TestDriftConflictIsNoError(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, ctx, true)
	stale := getClaim(t, ctx, w.claim.Name)
	w.updateClaim(t, ctx, func(nc *v1.NodeClaim) { nc.Labels["written-meanwhile"] = "yes" })
	w.updateClassStatus(t, ctx, func(s *v1.EC2NodeClassStatus) { s.AMIs[0].ID = "ami-2" })
	ctrl := disruption.NewController(env.Client)
	if _, err := ctrl.Reconcile(ctx, stale); err != nil {
		t.Fatalf("Reconcile on a stale claim: %v, want no error", err)
	}
	if c := getClaim(t, ctx, w.claim.Name).GetCondition(v1.ConditionTypeDrifted); c != nil {
		t.Fatalf("a stale verdict was written: %+v", c)
	}
	if _, err := ctrl.Reconcile(ctx, getClaim(t, ctx, w.claim.Name)); err != nil {
		t.Fatal(err)
	}
	if c := getClaim(t, ctx, w.claim.Name).GetCondition(v1.ConditionTypeDrifted); c == nil || c.Reason != disruption.ReasonAMIDrifted {
		t.Fatalf("on the fresh claim: %+v, want AMIDrifted", c)
	}
}
