package catalog

import (
	"strings"
	"testing"
)

func TestEmbeddedCatalog(t *testing.T) {
	types, err := InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	if len(types) != 1382 {
		t.Fatalf("got %d instance types, want the 1382 rows of data/ec2-instance-types.csv", len(types))
	}
	byName := map[string]InstanceType{}
	arch := map[string]int{}
	for _, it := range types {
		byName[it.Name] = it
		arch[it.Architecture]++
	}
	if arch["amd64"] != 986 || arch["arm64"] != 396 {
		t.Errorf("architectures %v, want 986 amd64 and 396 arm64", arch)
	}
	m5 := byName["m5.large"]
	if m5.VCPU != 2 || m5.MemoryMiB != 8192 || m5.MaxPodsENI != 29 || m5.Family != "m5" || m5.Generation != 5 {
		t.Errorf("m5.large = %+v", m5)
	}
	if p, ok := m5.Price("us-east-1"); !ok || p <= 0 {
		t.Errorf("m5.large has no us-east-1 price")
	}
	if g := byName["p3.2xlarge"]; g.GPUCount != 1 || g.GPUManufacturer != "nvidia" {
		t.Errorf("p3.2xlarge GPUs = %d (%s)", g.GPUCount, g.GPUManufacturer)
	}
}

func TestParseRejectsBadRows(t *testing.T) {
	_, err := Parse(strings.NewReader("name,vcpu,memory_mib,architecture\nx.large,two,1024,amd64\n"))
	if err == nil || !strings.Contains(err.Error(), "x.large") {
		t.Fatalf("want an error naming the bad row, got %v", err)
	}
	_, err = Parse(strings.NewReader("name,vcpu\n"))
	if err == nil || !strings.Contains(err.Error(), "memory_mib") {
		t.Fatalf("want an error naming the missing column, got %v", err)
	}
}
