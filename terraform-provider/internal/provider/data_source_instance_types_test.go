package provider

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/nodewright/nodewright/controller/catalog"
)

func TestAccInstanceTypesDataSource(t *testing.T) {
	emu, prov := awsTest(t)
	ctx := context.Background()
	c := ec2.NewFromConfig(emu.Config())
	ds := "data.nodewright_instance_types.test"
	cfg := prov + `
data "nodewright_instance_types" "test" {
  requirements = [
    { key = "node.kubernetes.io/instance-type", operator = "In", values = ["m5.large", "m6g.large", "c5.xlarge"] },
    { key = "kubernetes.io/arch", operator = "In", values = ["amd64"] },
  ]
}
`
	// Expected values, computed independently from the catalog and the emulator.
	all, err := catalog.InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	price := map[string]float64{}
	mem := map[string]int64{}
	for _, it := range all {
		if p, ok := it.Price("us-east-1"); ok {
			price[it.Name] = p
		}
		mem[it.Name] = it.MemoryMiB
	}
	minSpot := func(name string) float64 {
		out, err := c.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{InstanceTypes: []ec2types.InstanceType{ec2types.InstanceType(name)},
			ProductDescriptions: []string{"Linux/UNIX"}, StartTime: aws.Time(time.Now())})
		if err != nil {
			t.Fatal(err)
		}
		best := -1.0
		for _, sp := range out.SpotPriceHistory {
			p, _ := strconv.ParseFloat(aws.ToString(sp.SpotPrice), 64)
			if best < 0 || p < best {
				best = p
			}
		}
		return best
	}
	first, second := "m5.large", "c5.xlarge"
	if price[first] > price[second] {
		first, second = second, first
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: prov + `
data "nodewright_instance_types" "bad" {
  requirements = [{ key = "nodewright.dev/instance-cpu", operator = "Gt", values = ["many"] }]
}
`,
				ExpectError: regexp.MustCompile(`operator Gt needs an integer`),
			},
			{
				Config: prov + `
data "nodewright_instance_types" "bad" {
  requirements = [{ key = "kubernetes.io/arch", operator = "Equals", values = ["amd64"] }]
}
`,
				ExpectError: regexp.MustCompile(`(?s)operator.*must be one of`),
			},
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("region"), knownvalue.StringExact("us-east-1")),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("instance_types"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("instance_types").AtSliceIndex(0).AtMapKey("name"), knownvalue.StringExact(first)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("instance_types").AtSliceIndex(1).AtMapKey("name"), knownvalue.StringExact(second)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("instance_types").AtSliceIndex(0).AtMapKey("arch"), knownvalue.StringExact("amd64")),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("instance_types").AtSliceIndex(0).AtMapKey("memory_mib"), knownvalue.Int64Exact(mem[first])),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("instance_types").AtSliceIndex(0).AtMapKey("on_demand_price"), knownvalue.Float64Exact(price[first])),
				},
				Check: func(s *terraform.State) error {
					attrs := s.RootModule().Resources[ds].Primary.Attributes
					for i, name := range []string{first, second} {
						got, _ := strconv.ParseFloat(attrs[fmt.Sprintf("instance_types.%d.spot_price", i)], 64)
						if want := minSpot(name); want <= 0 || got != want {
							return fmt.Errorf("%s spot price %v, want %v", name, got, want)
						}
						if n, _ := strconv.Atoi(attrs[fmt.Sprintf("instance_types.%d.zones.#", i)]); n == 0 {
							return fmt.Errorf("%s has no zones", name)
						}
					}
					if attrs["instance_types.0.vcpu"] == "" {
						return fmt.Errorf("no vcpu")
					}
					return nil
				},
			},
			{
				// A zone requirement narrows the zones, not just the types.
				Config: prov + `
data "nodewright_instance_types" "test" {
  region = "us-east-1"
  requirements = [
    { key = "node.kubernetes.io/instance-type", operator = "In", values = ["m5.large"] },
    { key = "topology.kubernetes.io/zone", operator = "In", values = ["us-east-1b"] },
  ]
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("instance_types"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"name":  knownvalue.StringExact("m5.large"),
							"zones": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("us-east-1b")}),
						}),
					})),
				},
			},
		},
	})
}
