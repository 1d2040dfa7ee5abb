package pricing

import (
	"errors"
	"math"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/providers/launchtemplate"
)

// gp3USEast1 is the us-east-1 gp3 storage price in catalog/data/ebs-prices.csv.
const gp3USEast1, gp2USEast1 = 0.08, 0.10

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestDefaultRootVolumeIsPricedAsLaunched(t *testing.T) {
	// No mappings: the 20 GiB gp3 root the launch template gets.
	got, err := VolumeCost(nil, "us-east-1")
	if err != nil || !approx(got, 20*gp3USEast1/catalog.HoursPerMonth) {
		t.Fatalf("default root volume: %v (%v), want 20 GiB of gp3", got, err)
	}
	// Bottlerocket adds its 4 GiB OS volume.
	br := &v1.EC2NodeClass{Spec: v1.EC2NodeClassSpec{AMISelectorTerms: []v1.AMISelectorTerm{{Alias: "bottlerocket@latest"}}}}
	got, err = VolumeCost(br, "us-east-1")
	if err != nil || !approx(got, 24*gp3USEast1/catalog.HoursPerMonth) {
		t.Fatalf("bottlerocket: %v (%v), want 24 GiB of gp3", got, err)
	}
	// What is priced is what launchtemplate.BlockDevices launches, volume for volume.
	if vs, bd := Volumes(br), launchtemplate.BlockDevices(br); len(vs) != len(bd) || vs[0].SizeGiB != int64(*bd[0].Ebs.VolumeSize) {
		t.Fatalf("volumes %+v do not follow the launch template's mappings", vs)
	}
}

func TestNodeClassMappingsArePricedPartByPart(t *testing.T) {
	size := resource.MustParse("100Gi")
	gp2, gp3, bogus := "gp2", "gp3", "gp9"
	nc := &v1.EC2NodeClass{Spec: v1.EC2NodeClassSpec{BlockDeviceMappings: []v1.BlockDeviceMapping{
		{DeviceName: ptrTo("/dev/xvda"), EBS: &v1.BlockDevice{VolumeSize: &size, VolumeType: &gp2}},
		// Neither size nor type: EC2's gp2, at the 20 GiB default size.
		{DeviceName: ptrTo("/dev/xvdb"), EBS: &v1.BlockDevice{}},
		// Not an EBS volume: costs nothing per node.
		{DeviceName: ptrTo("/dev/xvdc")},
	}}}
	got, err := VolumeCost(nc, "us-east-1")
	want := (100 + 20) * gp2USEast1 / catalog.HoursPerMonth
	if err != nil || !approx(got, want) {
		t.Fatalf("got %v (%v), want %v", got, err, want)
	}
	// A region without EBS data is priced at us-east-1's prices.
	if other, err := VolumeCost(nc, "eu-west-3"); err != nil || !approx(other, got) {
		t.Errorf("eu-west-3: %v (%v), want the us-east-1 figure %v", other, err, got)
	}
	// gp3 above the free IOPS: the storage is priced, the rest reported.
	iops := int64(6000)
	nc.Spec.BlockDeviceMappings = []v1.BlockDeviceMapping{{DeviceName: ptrTo("/dev/xvda"), EBS: &v1.BlockDevice{VolumeSize: &size, VolumeType: &gp3, IOPS: &iops}}}
	got, err = VolumeCost(nc, "us-east-1")
	if !errors.Is(err, catalog.ErrUnpriced) || !approx(got, 100*gp3USEast1/catalog.HoursPerMonth) {
		t.Errorf("gp3 with 6000 IOPS: %v (%v), want the storage price and ErrUnpriced", got, err)
	}
	nc.Spec.BlockDeviceMappings[0].EBS.VolumeType = &bogus
	if _, err := VolumeCost(nc, "us-east-1"); err == nil || errors.Is(err, catalog.ErrUnpriced) || !strings.Contains(err.Error(), "gp9") {
		t.Errorf("an unknown volume type must be a plain error naming it, got %v", err)
	}
}

func ptrTo[T any](v T) *T { return &v }
