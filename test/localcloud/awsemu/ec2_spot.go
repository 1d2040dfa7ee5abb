package awsemu

import (
	"fmt"
	"strconv"
	"time"

	"github.com/nodewright/nodewright/controller/catalog"
)

// ---- spot prices ----

// spotPrice is the synthetic spot price of a pool at time t; the formula
// is catalog.SyntheticSpotPrice, shared with `nodewright simulate`.
func (s *Server) spotPrice(it *catalog.InstanceType, zone string, t time.Time) (float64, bool) {
	return it.SyntheticSpotPrice(s.world.Region, zone, t)
}

type spotPriceXML struct {
	InstanceType       string `xml:"instanceType"`
	ProductDescription string `xml:"productDescription"`
	SpotPrice          string `xml:"spotPrice"`
	Timestamp          string `xml:"timestamp"`
	AvailabilityZone   string `xml:"availabilityZone"`
	AvailabilityZoneID string `xml:"availabilityZoneId"`
	at                 time.Time
}

var spotProducts = []string{"Linux/UNIX", "Linux/UNIX (Amazon VPC)"}

type ec2DescribeSpotPriceHistoryInput struct {
	DryRun              bool
	InstanceTypes       []string `query:"InstanceType"`
	ProductDescriptions []string `query:"ProductDescription"`
	AvailabilityZone    string
	AvailabilityZoneID  string `query:"AvailabilityZoneId"`
	// Strings: the core query decoder does not parse time.Time fields yet.
	StartTime  string
	EndTime    string
	Filters    []ec2Filter `query:"Filter"`
	MaxResults int
	NextToken  string
}

type ec2DescribeSpotPriceHistoryOutput struct {
	Prices    items[spotPriceXML] `xml:"spotPriceHistorySet"`
	NextToken string              `xml:"nextToken,omitempty"`
}

func (s *Server) ec2DescribeSpotPriceHistory(c *Call, in *ec2DescribeSpotPriceHistoryInput) (*ec2DescribeSpotPriceHistoryOutput, error) {
	if in.DryRun {
		return nil, errDryRun()
	}
	startTime, err := parseQueryTime("StartTime", in.StartTime)
	if err != nil {
		return nil, err
	}
	endTime, err := parseQueryTime("EndTime", in.EndTime)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	end := now
	if !endTime.IsZero() && endTime.Before(now) {
		end = endTime
	}
	start := end
	if !startTime.IsZero() && startTime.Before(end) {
		start = startTime
	}
	if end.Sub(start) > 90*24*time.Hour {
		start = end.Add(-90 * 24 * time.Hour)
	}
	// One point per hour boundary in the window plus the price in effect at
	// its start, newest first, as AWS lists price changes.
	var stamps []time.Time
	for t := end.Truncate(time.Hour); t.After(start); t = t.Add(-time.Hour) {
		stamps = append(stamps, t)
	}
	stamps = append(stamps, start.Truncate(time.Hour))

	types := in.InstanceTypes
	if len(types) == 0 {
		for _, it := range s.catalog.Types {
			types = append(types, it.Name)
		}
	}
	products := in.ProductDescriptions
	if len(products) == 0 {
		products = spotProducts
	}
	var list []spotPriceXML
	for _, z := range s.world.Options.Zones {
		if in.AvailabilityZone != "" && in.AvailabilityZone != z || in.AvailabilityZoneID != "" && in.AvailabilityZoneID != s.zoneIDOf(z) {
			continue
		}
		for _, name := range types {
			it, ok := s.catalog.ByName[name]
			if !ok || !s.offered(name, z) {
				continue
			}
			for _, t := range stamps {
				p, ok := s.spotPrice(it, z, t)
				if !ok {
					break
				}
				for _, prod := range products {
					list = append(list, spotPriceXML{InstanceType: name, ProductDescription: prod, SpotPrice: strconv.FormatFloat(p, 'f', 6, 64),
						Timestamp: ec2Time(t), AvailabilityZone: z, AvailabilityZoneID: s.zoneIDOf(z), at: t})
				}
			}
		}
	}
	list, err = applyFilters("DescribeSpotPriceHistory", list, in.Filters, filterFields[spotPriceXML]{
		"instance-type":        func(p spotPriceXML) []string { return one(p.InstanceType) },
		"availability-zone":    func(p spotPriceXML) []string { return one(p.AvailabilityZone) },
		"availability-zone-id": func(p spotPriceXML) []string { return one(p.AvailabilityZoneID) },
		"product-description":  func(p spotPriceXML) []string { return one(p.ProductDescription) },
		"spot-price":           func(p spotPriceXML) []string { return one(p.SpotPrice) },
		"timestamp":            func(p spotPriceXML) []string { return one(p.Timestamp) },
	}, nil)
	if err != nil {
		return nil, err
	}
	// The API reference sets no bounds on MaxResults here (its model types
	// it a plain Integer, unlike the bounded MaxResults of other Describe
	// calls), and EC2 takes larger values: Karpenter v1.15.0 asks for 2000
	// ("EC2 doesn't seem to limit page size here"). EC2 may return fewer
	// items than asked, with a NextToken; the emulator answers at most
	// spotPageSize per page, the largest page EC2's bounded Describe calls
	// allow.
	if in.MaxResults < 0 {
		return nil, errInvalidParameterValue("Value (%d) for parameter maxResults is invalid. Expecting a positive value.", in.MaxResults)
	}
	if in.MaxResults == 0 || in.MaxResults > spotPageSize {
		in.MaxResults = spotPageSize
	}
	pg, next, err := page(list, in.NextToken, in.MaxResults, 1, spotPageSize)
	if err != nil {
		return nil, err
	}
	return &ec2DescribeSpotPriceHistoryOutput{items[spotPriceXML]{pg}, next}, nil
}

// spotPageSize is the most price points one DescribeSpotPriceHistory page holds.
const spotPageSize = 1000

func formatPrice(p float64) string { return fmt.Sprintf("%.4f", p) }

func parseQueryTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errInvalidParameterValue("Value (%s) for parameter %s is not a valid ISO 8601 time.", v, name)
	}
	return t, nil
}
