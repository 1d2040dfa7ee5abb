package instancetype

import (
	"math"
	"testing"

	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/providers/pricing"
)

func TestBurstableTypesCarryTheirBaseline(t *testing.T) {
	types, err := catalog.InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	zones := []Zone{{Name: "us-east-1a"}}
	seen := 0
	for _, it := range types {
		st := InstanceType(it, "us-east-1", zones, pricing.CatalogPricing{Region: "us-east-1"}, catalog.Kubelet{}, nil)
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
