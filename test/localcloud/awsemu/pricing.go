package awsemu

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
)

// The Price List API is served from the embedded catalog: one Linux, shared
// tenancy, on-demand product per instance type and region, priced with the
// catalog's on-demand price. Nothing here is state, so nothing is persisted.

// pricingLocations maps region codes to the location names the Price List
// uses in its "location" attribute, and the usage-type prefix of the region.
var pricingLocations = map[string]struct{ name, usagePrefix string }{
	"us-east-1":      {"US East (N. Virginia)", ""},
	"us-east-2":      {"US East (Ohio)", "USE2-"},
	"us-west-1":      {"US West (N. California)", "USW1-"},
	"us-west-2":      {"US West (Oregon)", "USW2-"},
	"ca-central-1":   {"Canada (Central)", "CAN1-"},
	"eu-west-1":      {"EU (Ireland)", "EU-"},
	"eu-west-2":      {"EU (London)", "EUW2-"},
	"eu-central-1":   {"EU (Frankfurt)", "EUC1-"},
	"eu-north-1":     {"EU (Stockholm)", "EUN1-"},
	"ap-south-1":     {"Asia Pacific (Mumbai)", "APS3-"},
	"ap-southeast-1": {"Asia Pacific (Singapore)", "APS1-"},
	"ap-southeast-2": {"Asia Pacific (Sydney)", "APS2-"},
	"ap-northeast-1": {"Asia Pacific (Tokyo)", "APN1-"},
	"sa-east-1":      {"South America (Sao Paulo)", "SAE1-"},
}

const (
	pricingOnDemandTerm = "JRTCKXETXF"
	pricingRateCode     = "6YS6EN2CT7"
	pricingPublished    = "2026-11-01T00:00:00Z"
	pricingVersion      = "20261101000000"
)

type pricingFilter struct {
	Type  string
	Field string
	Value string
}

func validatePricingFilters(filters []pricingFilter) *Error {
	for _, f := range filters {
		switch f.Type {
		case "TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF":
		default:
			return Errorf(400, "InvalidParameterException", "Invalid filter type %q: must be one of TERM_MATCH, EQUALS, CONTAINS, ANY_OF, NONE_OF", f.Type)
		}
		if f.Field == "" {
			return Errorf(400, "InvalidParameterException", "A filter of type %s is missing its Field", f.Type)
		}
	}
	return nil
}

func pricingFilterMatch(f pricingFilter, v string, ok bool) bool {
	switch f.Type {
	case "TERM_MATCH", "EQUALS":
		return ok && strings.EqualFold(v, f.Value)
	case "CONTAINS":
		return ok && strings.Contains(strings.ToLower(v), strings.ToLower(f.Value))
	case "ANY_OF", "NONE_OF":
		in := false
		for _, want := range strings.Split(f.Value, ",") {
			in = in || (ok && strings.EqualFold(strings.TrimSpace(want), v))
		}
		return in == (f.Type == "ANY_OF")
	}
	return false
}

// pricingRegions lists the regions priced: the named ones plus the world's own.
func (s *Server) pricingRegions() []string {
	regions := make([]string, 0, len(pricingLocations)+1)
	for r := range pricingLocations {
		regions = append(regions, r)
	}
	if _, ok := pricingLocations[s.world.Region]; !ok && s.world.Region != "" {
		regions = append(regions, s.world.Region)
	}
	sort.Strings(regions)
	return regions
}

func pricingToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func parsePricingToken(tok string) (int, *Error) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		if n, ok := strings.CutPrefix(string(b), "offset:"); ok {
			if i, err := strconv.Atoi(n); err == nil && i >= 0 {
				return i, nil
			}
		}
	}
	return 0, Errorf(400, "InvalidNextTokenException", "The next token is invalid.")
}

func pricingPageSize(maxResults *int) (int, *Error) {
	if maxResults == nil {
		return 100, nil
	}
	if *maxResults < 1 || *maxResults > 100 {
		return 0, Errorf(400, "InvalidParameterException", "MaxResults must be between 1 and 100, got %d", *maxResults)
	}
	return *maxResults, nil
}

func (s *Server) registerPricing() {
	s.register("pricing", "GetProducts", protoJSON11, false, handle(s.pricingGetProducts))
	s.register("pricing", "DescribeServices", protoJSON11, false, handle(s.pricingDescribeServices))
	s.register("pricing", "GetAttributeValues", protoJSON11, false, handle(s.pricingGetAttributeValues))
}

func checkFormatVersion(v string) *Error {
	if v != "" && v != "aws_v1" {
		return Errorf(400, "InvalidParameterException", "Unsupported FormatVersion %q: only aws_v1 is available", v)
	}
	return nil
}

type pricingGetProductsInput struct {
	ServiceCode   string
	Filters       []pricingFilter
	FormatVersion string
	MaxResults    *int
	NextToken     string
}

type pricingGetProductsOutput struct {
	FormatVersion string
	PriceList     []string
	NextToken     string `json:",omitempty"`
}

func (s *Server) pricingGetProducts(c *Call, in *pricingGetProductsInput) (*pricingGetProductsOutput, error) {
	if in.ServiceCode == "" {
		return nil, Errorf(400, "InvalidParameterException", "ServiceCode is required")
	}
	if err := checkFormatVersion(in.FormatVersion); err != nil {
		return nil, err
	}
	if err := validatePricingFilters(in.Filters); err != nil {
		return nil, err
	}
	limit, perr := pricingPageSize(in.MaxResults)
	if perr != nil {
		return nil, perr
	}
	offset, perr := parsePricingToken(in.NextToken)
	if perr != nil {
		return nil, perr
	}
	out := pricingGetProductsOutput{FormatVersion: "aws_v1", PriceList: []string{}}
	if in.ServiceCode != "AmazonEC2" {
		return &out, nil
	}
	var matched []pricingProduct
	for _, region := range s.pricingRegions() {
		for i := range s.catalog.Types {
			it := &s.catalog.Types[i]
			price, ok := it.Price(region)
			if !ok || price <= 0 {
				continue
			}
			p := pricingProduct{it: it, region: region, price: price}
			if pricingProductMatches(p, in.Filters) {
				matched = append(matched, p)
			}
		}
	}
	if offset > len(matched) {
		return nil, Errorf(400, "InvalidNextTokenException", "The next token is invalid.")
	}
	end := min(offset+limit, len(matched))
	for _, p := range matched[offset:end] {
		doc, err := p.priceListJSON()
		if err != nil {
			return nil, err
		}
		out.PriceList = append(out.PriceList, doc)
	}
	if end < len(matched) {
		out.NextToken = pricingToken(end)
	}
	return &out, nil
}

func pricingProductMatches(p pricingProduct, filters []pricingFilter) bool {
	for _, f := range filters {
		v, ok := p.field(f.Field)
		if !pricingFilterMatch(f, v, ok) {
			return false
		}
	}
	return true
}

var pricingServices = []string{"AmazonEC2", "AmazonEKS", "AmazonS3"}

func (s *Server) pricingAttributeNames() []string {
	names := append([]string{"productFamily"}, pricingAttributeKeys...)
	sort.Strings(names)
	return names
}

type pricingDescribeServicesInput struct {
	ServiceCode   string
	FormatVersion string
	MaxResults    *int
	NextToken     string
}

type pricingService struct {
	ServiceCode    string
	AttributeNames []string `json:",omitempty"`
}

type pricingDescribeServicesOutput struct {
	FormatVersion string
	Services      []pricingService
	NextToken     string `json:",omitempty"`
}

func (s *Server) pricingDescribeServices(c *Call, in *pricingDescribeServicesInput) (*pricingDescribeServicesOutput, error) {
	if err := checkFormatVersion(in.FormatVersion); err != nil {
		return nil, err
	}
	limit, perr := pricingPageSize(in.MaxResults)
	if perr != nil {
		return nil, perr
	}
	offset, perr := parsePricingToken(in.NextToken)
	if perr != nil {
		return nil, perr
	}
	var all []pricingService
	for _, code := range pricingServices {
		if in.ServiceCode != "" && in.ServiceCode != code {
			continue
		}
		svc := pricingService{ServiceCode: code}
		if code == "AmazonEC2" {
			svc.AttributeNames = s.pricingAttributeNames()
		}
		all = append(all, svc)
	}
	if in.ServiceCode != "" && len(all) == 0 {
		return nil, Errorf(400, "NotFoundException", "Service code %s was not found.", in.ServiceCode)
	}
	if offset > len(all) {
		return nil, Errorf(400, "InvalidNextTokenException", "The next token is invalid.")
	}
	end := min(offset+limit, len(all))
	out := pricingDescribeServicesOutput{FormatVersion: "aws_v1", Services: all[offset:end]}
	if end < len(all) {
		out.NextToken = pricingToken(end)
	}
	return &out, nil
}

type pricingGetAttributeValuesInput struct {
	ServiceCode   string
	AttributeName string
	MaxResults    *int
	NextToken     string
}

type pricingAttributeValue struct{ Value string }

type pricingGetAttributeValuesOutput struct {
	AttributeValues []pricingAttributeValue
	NextToken       string `json:",omitempty"`
}

func (s *Server) pricingGetAttributeValues(c *Call, in *pricingGetAttributeValuesInput) (*pricingGetAttributeValuesOutput, error) {
	if in.ServiceCode == "" || in.AttributeName == "" {
		return nil, Errorf(400, "InvalidParameterException", "ServiceCode and AttributeName are required")
	}
	limit, perr := pricingPageSize(in.MaxResults)
	if perr != nil {
		return nil, perr
	}
	offset, perr := parsePricingToken(in.NextToken)
	if perr != nil {
		return nil, perr
	}
	if in.ServiceCode != "AmazonEC2" {
		return nil, Errorf(400, "NotFoundException", "Service code %s was not found.", in.ServiceCode)
	}
	seen := map[string]bool{}
	for _, region := range s.pricingRegions() {
		for i := range s.catalog.Types {
			it := &s.catalog.Types[i]
			price, ok := it.Price(region)
			if !ok || price <= 0 {
				continue
			}
			p := pricingProduct{it: it, region: region, price: price}
			if v, ok := p.field(in.AttributeName); ok {
				seen[v] = true
			}
		}
	}
	if len(seen) == 0 {
		return nil, Errorf(400, "NotFoundException", "Attribute %s was not found for service %s.", in.AttributeName, in.ServiceCode)
	}
	values := make([]string, 0, len(seen))
	for v := range seen {
		values = append(values, v)
	}
	sort.Strings(values)
	if offset > len(values) {
		return nil, Errorf(400, "InvalidNextTokenException", "The next token is invalid.")
	}
	end := min(offset+limit, len(values))
	out := pricingGetAttributeValuesOutput{AttributeValues: []pricingAttributeValue{}}
	for _, v := range values[offset:end] {
		out.AttributeValues = append(out.AttributeValues, pricingAttributeValue{v})
	}
	if end < len(values) {
		out.NextToken = pricingToken(end)
	}
	return &out, nil
}
