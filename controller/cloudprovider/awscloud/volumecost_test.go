package awscloud

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

func TestBurstableTypesCarryTheirBaseline(t *testing.T) {
	types, err := catalog.InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	zones := []Zone{{Name: "us-east-1a"}}
	seen := 0
	for _, it := range types {
		st := InstanceType(it, "us-east-1", zones, CatalogPricing{Region: "us-east-1"}, 0, nil)
		if !it.Burstable {
			if st.Burst != nil {
				t.Errorf("%s does not burst but got %+v", it.Name, st.Burst)
			}
			continue
		}
		seen++
		if st.Burst == nil {
			t.Errorf("%s bursts but has no Burst", it.Name)
			continue
		}
		want := int64(math.Round(float64(it.VCPU) * it.BaselineCPUPerVCPU * 1000))
		if st.Burst.BaselineMilliCPU != want || st.Burst.SurplusPerVCPUHour != it.SurplusPerVCPUHour {
			t.Errorf("%s: %+v, want %dm at %v", it.Name, st.Burst, want, it.SurplusPerVCPUHour)
		}
	}
	if seen != 28 {
		t.Errorf("%d burstable types, want 28", seen)
	}
	// Named figures from the EC2 credit table.
	byName := map[string]catalog.InstanceType{}
	for _, it := range types {
		byName[it.Name] = it
	}
	for name, want := range map[string]int64{"t3.micro": 200, "t2.2xlarge": 1360, "t2.xlarge": 900, "t4g.small": 400, "t3a.2xlarge": 3200} {
		b := burst(byName[name])
		if b == nil || b.BaselineMilliCPU != want {
			t.Errorf("%s baseline %+v, want %dm", name, b, want)
		}
	}
	if b := burst(byName["t3.large"]); b.Surplus(1600) != 1.0*0.05 {
		t.Errorf("t3.large at 1600m (1000m over its 600m baseline) pays %v/h, want 0.05", b.Surplus(1600))
	}
}

func ptrTo[T any](v T) *T { return &v }
