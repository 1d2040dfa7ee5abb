package catalog

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The SDK's partition metadata is internal to aws-sdk-go-v2, so the test
// reads the JSON it is generated from, at the version go.mod requires.
func TestCommercialRegionsAreTheSDKs(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-sdk-go-v2").Output()
	if err != nil {
		t.Fatalf("locating aws-sdk-go-v2: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "internal", "endpoints", "awsrulesfn", "partitions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Partitions []struct {
			ID      string                     `json:"id"`
			Regions map[string]json.RawMessage `json:"regions"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var sdk []string
	for _, p := range doc.Partitions {
		if p.ID != "aws" {
			continue
		}
		for r := range p.Regions {
			if r != "aws-global" {
				sdk = append(sdk, r)
			}
		}
	}
	slices.Sort(sdk)
	ours := slices.Sorted(slices.Values(CommercialRegions))
	if !slices.Equal(ours, sdk) {
		t.Fatalf("CommercialRegions differ from the SDK's aws partition:\n ours %v\n sdk  %v\ndecide how each new region is priced and update regions.go and data/README.md", ours, sdk)
	}
}

func TestEveryCommercialRegionIsPricedOrRecorded(t *testing.T) {
	types, err := InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range CommercialRegions {
		pr := PriceRegion(r)
		if Priced(r) != (pr == r) {
			t.Errorf("%s: Priced %v but PriceRegion %s", r, Priced(r), pr)
		}
		// Every type priced in us-east-1 has a price in every region,
		// its own or the stand-in's.
		for _, it := range types {
			if _, ok := it.OnDemandPrice["us-east-1"]; !ok {
				continue
			}
			if _, ok := it.Price(r); !ok {
				t.Fatalf("%s has no price in %s", it.Name, r)
			}
		}
	}
	if got := len(UnpricedRegions()); got != len(CommercialRegions)-2 {
		t.Errorf("%d unpriced regions, want %d (all but us-east-1 and us-west-2)", got, len(CommercialRegions)-2)
	}
}

// The README's region table is what a user reads; it must name exactly the
// regions the code treats as unpriced.
func TestREADMENamesTheUnpricedRegions(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("data", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasSuffix(line, "| unpriced: us-east-1's stand in |") {
			continue
		}
		cell := strings.Trim(strings.TrimSuffix(line, "| unpriced: us-east-1's stand in |"), "| ")
		listed := strings.Split(cell, ", ")
		if want := UnpricedRegions(); !slices.Equal(slices.Sorted(slices.Values(listed)), slices.Sorted(slices.Values(want))) {
			t.Fatalf("data/README.md lists unpriced regions %v, the code has %v", listed, want)
		}
		return
	}
	t.Fatal("data/README.md has no unpriced-regions row")
}
