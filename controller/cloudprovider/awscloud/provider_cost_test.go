package awscloud_test

import (
	"context"
	"math"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
)

// Through the provider, against the emulator: the types EC2 describes get
// their burst baseline, and the pool's node class prices its volumes.
func TestProviderBurstAndNodeVolumeCost(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	nc := nodeClass("default")
	size, typ := resource.MustParse("50Gi"), "gp3"
	nc.Spec.BlockDeviceMappings = []v1.BlockDeviceMapping{{DeviceName: ptr("/dev/xvda"), EBS: &v1.BlockDevice{VolumeSize: &size, VolumeType: &typ}}}
	e.resolved(t, nc)

	types, err := e.p.InstanceTypes(ctx, nodePool())
	if err != nil {
		t.Fatal(err)
	}
	if t3 := find(types, "t3.micro"); t3 == nil || t3.Burst == nil || t3.Burst.BaselineMilliCPU != 200 || t3.Burst.SurplusPerVCPUHour != 0.05 {
		t.Errorf("t3.micro burst = %+v, want 200m at $0.05/vCPU-h", t3)
	}
	if m5 := find(types, "m5.large"); m5 == nil || m5.Burst != nil {
		t.Errorf("m5.large must not burst: %+v", m5)
	}

	got, err := e.p.NodeVolumeCost(ctx, nodePool())
	if want := 50 * 0.08 / catalog.HoursPerMonth; err != nil || math.Abs(got-want) > 1e-12 {
		t.Fatalf("node volume cost %v (%v), want %v", got, err, want)
	}
	np := nodePool()
	np.Spec.Template.Spec.NodeClassRef.Name = "missing"
	if _, err := e.p.NodeVolumeCost(ctx, np); err == nil {
		t.Error("a pool whose node class does not exist must fail")
	}
}
