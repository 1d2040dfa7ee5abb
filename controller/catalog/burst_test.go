package catalog

import (
	"strings"
	"testing"
)

func TestEveryBurstableTypeHasABaselineAndNoOtherDoes(t *testing.T) {
	types, err := InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	table, err := Baselines()
	if err != nil {
		t.Fatal(err)
	}
	burstable := 0
	for _, it := range types {
		if !it.Burstable {
			if it.BaselineCPUPerVCPU != 0 || it.SurplusPerVCPUHour != 0 {
				t.Errorf("%s does not burst but has baseline %v, surplus %v", it.Name, it.BaselineCPUPerVCPU, it.SurplusPerVCPUHour)
			}
			if _, ok := table[it.Name]; ok {
				t.Errorf("%s is in the credit table but the catalog says it does not burst", it.Name)
			}
			continue
		}
		burstable++
		row, ok := table[it.Name]
		if !ok || it.BaselineCPUPerVCPU <= 0 || it.BaselineCPUPerVCPU > 1 {
			t.Errorf("%s bursts but has baseline %v (in table: %v)", it.Name, it.BaselineCPUPerVCPU, ok)
			continue
		}
		if row.VCPU != it.VCPU {
			t.Errorf("%s: credit table says %d vCPUs, catalog %d", it.Name, row.VCPU, it.VCPU)
		}
	}
	if burstable != len(table) || burstable != 28 {
		t.Errorf("%d burstable types in the catalog, %d rows in the credit table; want 28 of each (t2, t3, t3a, t4g)", burstable, len(table))
	}
}

// Figures copied from the credit table in the EC2 user guide
// (burstable-credits-baseline-concepts.md, data/README.md).
func TestNamedBaselinesMatchTheSource(t *testing.T) {
	types, err := InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]InstanceType{}
	for _, it := range types {
		byName[it.Name] = it
	}
	for name, want := range map[string]struct {
		baseline, surplus float64
	}{
		"t2.nano": {0.05, 0.05}, "t2.xlarge": {0.225, 0.05}, "t2.2xlarge": {0.17, 0.05},
		"t3.micro": {0.10, 0.05}, "t3.large": {0.30, 0.05}, "t3.2xlarge": {0.40, 0.05},
		// t3a and t4g carry the T3 rate as a stand-in (data/README.md).
		"t3a.medium": {0.20, 0.05}, "t4g.xlarge": {0.40, 0.05},
	} {
		it := byName[name]
		if it.BaselineCPUPerVCPU != want.baseline || it.SurplusPerVCPUHour != want.surplus {
			t.Errorf("%s: baseline %v surplus %v, want %v and %v", name, it.BaselineCPUPerVCPU, it.SurplusPerVCPUHour, want.baseline, want.surplus)
		}
	}
	for _, family := range []string{"t2", "t3", "t3a", "t4g"} {
		if _, ok := SurplusPerVCPUHour(family); !ok {
			t.Errorf("%s has no surplus price: bursting would look free", family)
		}
	}
}

func TestBaselinesRejectACopyingError(t *testing.T) {
	// t3.micro earns 12 credits/h over 2 vCPUs: 10%, not 20%.
	_, err := parseBaselines(strings.NewReader("name,vcpu,cpu_credits_per_hour,baseline_per_vcpu\nt3.micro,2,12,0.20\n"))
	if err == nil || !strings.Contains(err.Error(), "t3.micro") {
		t.Fatalf("want an error naming t3.micro, got %v", err)
	}
	_, err = parseSurplus(strings.NewReader("family,usd_per_vcpu_hour\nt3,-1\n"))
	if err == nil || !strings.Contains(err.Error(), "t3") {
		t.Fatalf("want an error naming t3, got %v", err)
	}
}

func TestParseFailsForABurstableTypeWithoutABaseline(t *testing.T) {
	_, err := Parse(strings.NewReader("name,family,vcpu,memory_mib,architecture,burstable\nt9.huge,t9,4,1024,amd64,true\n"))
	if err == nil || !strings.Contains(err.Error(), "t9.huge") {
		t.Fatalf("want an error naming t9.huge, got %v", err)
	}
}
