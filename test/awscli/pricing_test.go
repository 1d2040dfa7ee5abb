package awscli

import "testing"

// The Price List API speaks JSON 1.1. GetProducts answers each product as
// a string of JSON, which the checks parse in turn.

func TestPricing(t *testing.T) { runScenarios(t, pricingScenarios) }

var pricingScenarios = []scenario{
	{name: "EC2 prices", steps: []step{
		{service: "pricing", op: "DescribeServices", args: []string{"--service-code", "AmazonEC2"},
			want: []check{count("Services", 1), eq("Services.0.ServiceCode", "AmazonEC2"), some("Services.0.AttributeNames.*", "instanceType"),
				some("Services.0.AttributeNames.*", "regionCode"), eq("FormatVersion", "aws_v1")}},
		// The CLI follows NextToken through every page.
		{service: "pricing", op: "GetAttributeValues", args: []string{"--service-code", "AmazonEC2", "--attribute-name", "instanceType"},
			want: []check{atLeast("AttributeValues", 1000), some("AttributeValues.*.Value", "m5.large"), absent("NextToken")}},
		{service: "pricing", op: "GetProducts", args: []string{"--service-code", "AmazonEC2", "--filters",
			"Type=TERM_MATCH,Field=instanceType,Value=m5.large", "Type=TERM_MATCH,Field=regionCode,Value=us-east-1",
			"Type=TERM_MATCH,Field=operatingSystem,Value=Linux", "Type=TERM_MATCH,Field=tenancy,Value=Shared",
			"Type=TERM_MATCH,Field=preInstalledSw,Value=NA", "Type=TERM_MATCH,Field=capacitystatus,Value=Used"},
			want: []check{count("PriceList", 1), eq("FormatVersion", "aws_v1"), inJSON("PriceList.*",
				eq("product.attributes.instanceType", "m5.large"), eq("product.attributes.regionCode", "us-east-1"), eq("product.attributes.vcpu", "2"),
				eq("terms.OnDemand.*.priceDimensions.*.unit", "Hrs"), matches("terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD", `^0\.\d+$`))}},
		{name: "GetProducts of a family", service: "pricing", op: "GetProducts", args: []string{"--service-code", "AmazonEC2", "--max-items", "5", "--filters",
			"Type=CONTAINS,Field=instanceType,Value=m5.", "Type=TERM_MATCH,Field=regionCode,Value=eu-west-1"},
			want: []check{count("PriceList", 5), inJSON("PriceList.*", matches("product.attributes.instanceType", `^m5\.`), eq("product.attributes.location", "EU (Ireland)"))}},
	}},
}
