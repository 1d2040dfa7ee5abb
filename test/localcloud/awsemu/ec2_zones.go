package awsemu

// ---- offerings and zones ----

// offered reports whether zone offers the instance type.
func (s *Server) offered(instanceType, zone string) bool {
	if s.world.Options.Offerings == nil {
		return true
	}
	for _, t := range s.world.Options.Offerings[zone] {
		if wildcard(t, instanceType) {
			return true
		}
	}
	return false
}

type offeringXML struct {
	InstanceType string `xml:"instanceType"`
	LocationType string `xml:"locationType"`
	Location     string `xml:"location"`
}

type ec2DescribeInstanceTypeOfferingsInput struct {
	DryRun       bool
	LocationType string
	Filters      []ec2Filter `query:"Filter"`
	MaxResults   int
	NextToken    string
}

type ec2DescribeInstanceTypeOfferingsOutput struct {
	Offerings items[offeringXML] `xml:"instanceTypeOfferingSet"`
	NextToken string             `xml:"nextToken,omitempty"`
}

func (s *Server) ec2DescribeInstanceTypeOfferings(c *Call, in *ec2DescribeInstanceTypeOfferingsInput) (*ec2DescribeInstanceTypeOfferingsOutput, error) {
	if in.DryRun {
		return nil, errDryRun()
	}
	var list []offeringXML
	switch in.LocationType {
	case "", "region":
		for _, it := range s.catalog.Types {
			for _, z := range s.world.Options.Zones {
				if s.offered(it.Name, z) {
					list = append(list, offeringXML{it.Name, "region", s.world.Region})
					break
				}
			}
		}
	case "availability-zone", "availability-zone-id":
		for i, z := range s.world.Options.Zones {
			loc := z
			if in.LocationType == "availability-zone-id" {
				loc = zoneID(s.world.Region, i)
			}
			for _, it := range s.catalog.Types {
				if s.offered(it.Name, z) {
					list = append(list, offeringXML{it.Name, in.LocationType, loc})
				}
			}
		}
	default:
		return nil, errInvalidParameterValue("Value (%s) for parameter locationType is invalid. Valid values: region, availability-zone, availability-zone-id", in.LocationType)
	}
	list, err := applyFilters("DescribeInstanceTypeOfferings", list, in.Filters, filterFields[offeringXML]{
		"instance-type": func(o offeringXML) []string { return one(o.InstanceType) },
		"location":      func(o offeringXML) []string { return one(o.Location) },
	}, nil)
	if err != nil {
		return nil, err
	}
	if in.MaxResults == 0 {
		in.MaxResults = 1000
	}
	pg, next, err := page(list, in.NextToken, in.MaxResults, 5, 1000)
	if err != nil {
		return nil, err
	}
	return &ec2DescribeInstanceTypeOfferingsOutput{items[offeringXML]{pg}, next}, nil
}

type zoneXML struct {
	ZoneName           string `xml:"zoneName"`
	ZoneID             string `xml:"zoneId"`
	ZoneState          string `xml:"zoneState"`
	RegionName         string `xml:"regionName"`
	ZoneType           string `xml:"zoneType"`
	OptInStatus        string `xml:"optInStatus"`
	GroupName          string `xml:"groupName"`
	NetworkBorderGroup string `xml:"networkBorderGroup"`
}

type ec2DescribeAvailabilityZonesInput struct {
	DryRun    bool
	ZoneNames []string    `query:"ZoneName"`
	ZoneIDs   []string    `query:"ZoneId"`
	Filters   []ec2Filter `query:"Filter"`
}

type ec2DescribeAvailabilityZonesOutput struct {
	Zones items[zoneXML] `xml:"availabilityZoneInfo"`
}

func (s *Server) ec2DescribeAvailabilityZones(c *Call, in *ec2DescribeAvailabilityZonesInput) (*ec2DescribeAvailabilityZonesOutput, error) {
	if in.DryRun {
		return nil, errDryRun()
	}
	var list []zoneXML
	for i, z := range s.world.Options.Zones {
		list = append(list, zoneXML{ZoneName: z, ZoneID: zoneID(s.world.Region, i), ZoneState: "available",
			RegionName: s.world.Region, ZoneType: "availability-zone", OptInStatus: "opt-in-not-required",
			GroupName: s.world.Region, NetworkBorderGroup: s.world.Region})
	}
	if len(in.ZoneNames) > 0 || len(in.ZoneIDs) > 0 {
		var keep []zoneXML
		for _, name := range append(append([]string{}, in.ZoneNames...), in.ZoneIDs...) {
			found := false
			for _, z := range list {
				if z.ZoneName == name || z.ZoneID == name {
					keep, found = append(keep, z), true
				}
			}
			if !found {
				return nil, errInvalidParameterValue("The zone '%s' does not exist.", name)
			}
		}
		list = keep
	}
	list, err := applyFilters("DescribeAvailabilityZones", list, in.Filters, filterFields[zoneXML]{
		"zone-name":     func(z zoneXML) []string { return one(z.ZoneName) },
		"zone-id":       func(z zoneXML) []string { return one(z.ZoneID) },
		"state":         func(z zoneXML) []string { return one(z.ZoneState) },
		"region-name":   func(z zoneXML) []string { return one(z.RegionName) },
		"zone-type":     func(z zoneXML) []string { return one(z.ZoneType) },
		"group-name":    func(z zoneXML) []string { return one(z.GroupName) },
		"opt-in-status": func(z zoneXML) []string { return one(z.OptInStatus) },
		// Availability zones have no messages and no parent zone (only
		// Local and Wavelength Zones do).
		"message":          func(zoneXML) []string { return nil },
		"parent-zone-id":   func(zoneXML) []string { return nil },
		"parent-zone-name": func(zoneXML) []string { return nil },
	}, nil)
	if err != nil {
		return nil, err
	}
	return &ec2DescribeAvailabilityZonesOutput{items[zoneXML]{list}}, nil
}
