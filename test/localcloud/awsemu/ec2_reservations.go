package awsemu

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// ---- capacity reservations and placement groups ----
//
// The emulator has no Create call for either: the admin API puts them in
// the world (POST ec2/capacity-reservations, POST ec2/placement-groups), and
// DescribeCapacityReservations and DescribePlacementGroups list them, as
// clients such as Karpenter read reservations and groups made elsewhere.

func init() {
	adminRoutes["POST ec2/capacity-reservations"] = adminCreateCapacityReservation
	adminRoutes["POST ec2/placement-groups"] = adminCreatePlacementGroup
}

// CapacityReservation is an On-Demand Capacity Reservation or Capacity Block.
type CapacityReservation struct {
	ID                     string `json:"id"`
	InstanceType           string `json:"instanceType"`
	InstancePlatform       string `json:"instancePlatform"`
	AvailabilityZone       string `json:"availabilityZone"`
	Tenancy                string `json:"tenancy"`
	TotalInstanceCount     int    `json:"totalInstanceCount"`
	AvailableInstanceCount *int   `json:"availableInstanceCount,omitempty"`
	EbsOptimized           bool   `json:"ebsOptimized"`
	State                  string `json:"state"`
	// EndDate zero means the reservation has no end (end-date-type unlimited).
	StartDate             time.Time         `json:"startDate"`
	EndDate               time.Time         `json:"endDate"`
	InstanceMatchCriteria string            `json:"instanceMatchCriteria"`
	ReservationType       string            `json:"reservationType"`
	PlacementGroupArn     string            `json:"placementGroupArn,omitempty"`
	CreateDate            time.Time         `json:"createDate"`
	Tags                  map[string]string `json:"tags,omitempty"`
}

// PlacementGroup is an EC2 placement group.
type PlacementGroup struct {
	Name           string            `json:"name"`
	ID             string            `json:"id"`
	Strategy       string            `json:"strategy"`
	PartitionCount int               `json:"partitionCount,omitempty"`
	SpreadLevel    string            `json:"spreadLevel,omitempty"`
	State          string            `json:"state"`
	Tags           map[string]string `json:"tags,omitempty"`
}

// oneOf checks v against the values the API reference allows, after
// defaulting an empty v to def.
func oneOf(field string, v *string, def string, allowed ...string) error {
	if *v == "" {
		*v = def
	}
	if !slices.Contains(allowed, *v) {
		return fmt.Errorf("%s %q must be one of %s", field, *v, strings.Join(allowed, ", "))
	}
	return nil
}

func adminCreateCapacityReservation(s *Server, body []byte) (any, error) {
	var cr CapacityReservation
	if err := json.Unmarshal(body, &cr); err != nil {
		return nil, fmt.Errorf("parsing capacity reservation: %w", err)
	}
	if s.catalog.ByName[cr.InstanceType] == nil {
		return nil, fmt.Errorf("instanceType %q is not in the catalog", cr.InstanceType)
	}
	if s.zoneIDOf(cr.AvailabilityZone) == "" {
		return nil, fmt.Errorf("availabilityZone %q is not one of %v", cr.AvailabilityZone, s.world.Options.Zones)
	}
	if cr.TotalInstanceCount < 1 {
		return nil, fmt.Errorf("totalInstanceCount must be at least 1")
	}
	if cr.AvailableInstanceCount == nil {
		cr.AvailableInstanceCount = &cr.TotalInstanceCount
	}
	if n := *cr.AvailableInstanceCount; n < 0 || n > cr.TotalInstanceCount {
		return nil, fmt.Errorf("availableInstanceCount %d must be between 0 and totalInstanceCount %d", n, cr.TotalInstanceCount)
	}
	for _, check := range []error{
		oneOf("instancePlatform", &cr.InstancePlatform, "Linux/UNIX", "Linux/UNIX", "Red Hat Enterprise Linux", "SUSE Linux", "Windows",
			"Windows with SQL Server", "Windows with SQL Server Enterprise", "Windows with SQL Server Standard", "Windows with SQL Server Web",
			"Linux with SQL Server Standard", "Linux with SQL Server Web", "Linux with SQL Server Enterprise", "RHEL with SQL Server Standard",
			"RHEL with SQL Server Enterprise", "RHEL with SQL Server Web", "RHEL with HA", "RHEL with HA and SQL Server Standard",
			"RHEL with HA and SQL Server Enterprise", "Ubuntu Pro"),
		oneOf("tenancy", &cr.Tenancy, "default", "default", "dedicated"),
		oneOf("state", &cr.State, "active", "active", "expired", "cancelled", "pending", "failed", "scheduled", "payment-pending",
			"payment-failed", "assessing", "delayed", "unsupported", "unavailable"),
		oneOf("instanceMatchCriteria", &cr.InstanceMatchCriteria, "open", "open", "targeted"),
		oneOf("reservationType", &cr.ReservationType, "default", "default", "capacity-block"),
	} {
		if check != nil {
			return nil, check
		}
	}
	now := s.clock.Now()
	if cr.CreateDate.IsZero() {
		cr.CreateDate = now
	}
	if cr.StartDate.IsZero() {
		cr.StartDate = cr.CreateDate
	}
	if !cr.EndDate.IsZero() && !cr.EndDate.After(cr.StartDate) {
		return nil, fmt.Errorf("endDate %s must be after startDate %s", cr.EndDate, cr.StartDate)
	}
	if cr.ID == "" {
		cr.ID = newID("cr")
	}
	if !crIDPattern.MatchString(cr.ID) {
		return nil, fmt.Errorf("id %q must look like cr-0123456789abcdef0", cr.ID)
	}
	st := s.ec2()
	if st.CapacityReservations == nil { // a world saved before reservations were kept
		st.CapacityReservations = map[string]*CapacityReservation{}
	}
	if st.CapacityReservations[cr.ID] != nil {
		return nil, fmt.Errorf("capacity reservation %s already exists", cr.ID)
	}
	st.CapacityReservations[cr.ID] = &cr
	return &cr, nil
}

var crIDPattern = regexp.MustCompile(`^cr-[0-9a-f]{17}$`)

func adminCreatePlacementGroup(s *Server, body []byte) (any, error) {
	var pg PlacementGroup
	if err := json.Unmarshal(body, &pg); err != nil {
		return nil, fmt.Errorf("parsing placement group: %w", err)
	}
	if pg.Name == "" || len(pg.Name) > 255 {
		return nil, fmt.Errorf("name must be 1 to 255 characters")
	}
	if err := oneOf("strategy", &pg.Strategy, "", "cluster", "spread", "partition"); err != nil {
		return nil, err
	}
	if err := oneOf("state", &pg.State, "available", "pending", "available", "deleting", "deleted"); err != nil {
		return nil, err
	}
	switch pg.Strategy {
	case "partition":
		// CreatePlacementGroup allows 1 to 7 partitions.
		if pg.PartitionCount == 0 {
			pg.PartitionCount = 2
		}
		if pg.PartitionCount < 1 || pg.PartitionCount > 7 {
			return nil, fmt.Errorf("partitionCount %d must be between 1 and 7", pg.PartitionCount)
		}
	case "spread":
		if err := oneOf("spreadLevel", &pg.SpreadLevel, "rack", "host", "rack"); err != nil {
			return nil, err
		}
	}
	if pg.Strategy != "partition" && pg.PartitionCount != 0 {
		return nil, fmt.Errorf("partitionCount is only for the partition strategy")
	}
	if pg.Strategy != "spread" && pg.SpreadLevel != "" {
		return nil, fmt.Errorf("spreadLevel is only for the spread strategy")
	}
	st := s.ec2()
	if st.PlacementGroups == nil { // a world saved before placement groups were kept
		st.PlacementGroups = map[string]*PlacementGroup{}
	}
	if st.PlacementGroups[pg.Name] != nil {
		return nil, fmt.Errorf("placement group %s already exists", pg.Name)
	}
	pg.ID = newID("pg")
	st.PlacementGroups[pg.Name] = &pg
	return &pg, nil
}

type capacityReservationXML struct {
	CapacityReservationID  string  `xml:"capacityReservationId"`
	OwnerID                string  `xml:"ownerId"`
	CapacityReservationArn string  `xml:"capacityReservationArn"`
	AvailabilityZoneID     string  `xml:"availabilityZoneId"`
	InstanceType           string  `xml:"instanceType"`
	InstancePlatform       string  `xml:"instancePlatform"`
	AvailabilityZone       string  `xml:"availabilityZone"`
	Tenancy                string  `xml:"tenancy"`
	TotalInstanceCount     int     `xml:"totalInstanceCount"`
	AvailableInstanceCount int     `xml:"availableInstanceCount"`
	EbsOptimized           bool    `xml:"ebsOptimized"`
	EphemeralStorage       bool    `xml:"ephemeralStorage"`
	State                  string  `xml:"state"`
	StartDate              string  `xml:"startDate"`
	EndDate                string  `xml:"endDate,omitempty"`
	EndDateType            string  `xml:"endDateType"`
	InstanceMatchCriteria  string  `xml:"instanceMatchCriteria"`
	CreateDate             string  `xml:"createDate"`
	TagSet                 *tagSet `xml:"tagSet,omitempty"`
	PlacementGroupArn      string  `xml:"placementGroupArn,omitempty"`
	ReservationType        string  `xml:"reservationType"`
}

func (s *Server) capacityReservationXML(cr *CapacityReservation) capacityReservationXML {
	x := capacityReservationXML{CapacityReservationID: cr.ID, OwnerID: AccountID,
		CapacityReservationArn: "arn:aws:ec2:" + s.world.Region + ":" + AccountID + ":capacity-reservation/" + cr.ID,
		AvailabilityZoneID:     s.zoneIDOf(cr.AvailabilityZone), InstanceType: cr.InstanceType, InstancePlatform: cr.InstancePlatform,
		AvailabilityZone: cr.AvailabilityZone, Tenancy: cr.Tenancy, TotalInstanceCount: cr.TotalInstanceCount,
		AvailableInstanceCount: *cr.AvailableInstanceCount, EbsOptimized: cr.EbsOptimized, State: cr.State,
		StartDate: ec2Time(cr.StartDate), EndDate: timeOrEmpty(cr.EndDate), EndDateType: "unlimited",
		InstanceMatchCriteria: cr.InstanceMatchCriteria, CreateDate: ec2Time(cr.CreateDate), TagSet: tagsXML(cr.Tags),
		PlacementGroupArn: cr.PlacementGroupArn, ReservationType: cr.ReservationType}
	if !cr.EndDate.IsZero() {
		x.EndDateType = "limited"
	}
	return x
}

type capacityReservationView struct {
	cr *CapacityReservation
	x  capacityReservationXML
}

var capacityReservationFields = filterFields[capacityReservationView]{
	"instance-type":           func(v capacityReservationView) []string { return one(v.x.InstanceType) },
	"owner-id":                func(v capacityReservationView) []string { return one(v.x.OwnerID) },
	"instance-platform":       func(v capacityReservationView) []string { return one(v.x.InstancePlatform) },
	"availability-zone":       func(v capacityReservationView) []string { return one(v.x.AvailabilityZone) },
	"tenancy":                 func(v capacityReservationView) []string { return one(v.x.Tenancy) },
	"outpost-arn":             func(capacityReservationView) []string { return nil }, // no Outposts here
	"state":                   func(v capacityReservationView) []string { return one(v.x.State) },
	"start-date":              func(v capacityReservationView) []string { return one(v.x.StartDate) },
	"end-date":                func(v capacityReservationView) []string { return set(v.x.EndDate) },
	"end-date-type":           func(v capacityReservationView) []string { return one(v.x.EndDateType) },
	"instance-match-criteria": func(v capacityReservationView) []string { return one(v.x.InstanceMatchCriteria) },
	"placement-group-arn":     func(v capacityReservationView) []string { return set(v.x.PlacementGroupArn) },
}

type ec2DescribeCapacityReservationsInput struct {
	DryRun     bool
	IDs        []string    `query:"CapacityReservationId"`
	Filters    []ec2Filter `query:"Filter"`
	MaxResults int
	NextToken  string
}

type ec2DescribeCapacityReservationsOutput struct {
	Reservations items[capacityReservationXML] `xml:"capacityReservationSet"`
	NextToken    string                        `xml:"nextToken,omitempty"`
}

func (s *Server) ec2DescribeCapacityReservations(c *Call, in *ec2DescribeCapacityReservationsInput) (*ec2DescribeCapacityReservationsOutput, error) {
	if len(in.IDs) > 0 && in.MaxResults != 0 {
		return nil, Errorf(400, "InvalidParameterCombination", "The parameter capacityReservationSet cannot be used with the parameter maxResults")
	}
	st := s.ec2()
	var list []*CapacityReservation
	if len(in.IDs) > 0 {
		for _, id := range in.IDs {
			if !crIDPattern.MatchString(id) {
				return nil, Errorf(400, "InvalidCapacityReservationId.Malformed", "Invalid id: \"%s\" (expecting \"cr-...\")", id)
			}
			cr := st.CapacityReservations[id]
			if cr == nil {
				return nil, Errorf(400, "InvalidCapacityReservationId.NotFound", "The capacity reservation ID '%s' does not exist", id)
			}
			list = append(list, cr)
		}
	} else {
		for _, id := range sortedKeys(st.CapacityReservations) {
			list = append(list, st.CapacityReservations[id])
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].CreateDate.Before(list[j].CreateDate) })
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	views := make([]capacityReservationView, len(list))
	for i, cr := range list {
		views[i] = capacityReservationView{cr, s.capacityReservationXML(cr)}
	}
	pg, next, err := filterPage("DescribeCapacityReservations", views, in.Filters, capacityReservationFields,
		func(v capacityReservationView) map[string]string { return v.cr.Tags }, in.NextToken, in.MaxResults, 1, 1000)
	if err != nil {
		return nil, err
	}
	out := ec2DescribeCapacityReservationsOutput{NextToken: next}
	for _, v := range pg {
		out.Reservations.Item = append(out.Reservations.Item, v.x)
	}
	return &out, nil
}

type placementGroupXML struct {
	GroupName      string  `xml:"groupName"`
	State          string  `xml:"state"`
	Strategy       string  `xml:"strategy"`
	PartitionCount int     `xml:"partitionCount,omitempty"`
	GroupID        string  `xml:"groupId"`
	TagSet         *tagSet `xml:"tagSet,omitempty"`
	GroupArn       string  `xml:"groupArn"`
	SpreadLevel    string  `xml:"spreadLevel,omitempty"`
}

type placementGroupView struct {
	pg *PlacementGroup
	x  placementGroupXML
}

var placementGroupFields = filterFields[placementGroupView]{
	"group-name":   func(v placementGroupView) []string { return one(v.x.GroupName) },
	"group-arn":    func(v placementGroupView) []string { return one(v.x.GroupArn) },
	"spread-level": func(v placementGroupView) []string { return set(v.x.SpreadLevel) },
	"state":        func(v placementGroupView) []string { return one(v.x.State) },
	"strategy":     func(v placementGroupView) []string { return one(v.x.Strategy) },
}

var pgIDPattern = regexp.MustCompile(`^pg-[0-9a-f]{17}$`)

type ec2DescribePlacementGroupsInput struct {
	DryRun     bool
	GroupNames []string    `query:"GroupName"`
	GroupIDs   []string    `query:"GroupId"`
	Filters    []ec2Filter `query:"Filter"`
}

type ec2DescribePlacementGroupsOutput struct {
	Groups items[placementGroupXML] `xml:"placementGroupSet"`
}

func (s *Server) ec2DescribePlacementGroups(c *Call, in *ec2DescribePlacementGroupsInput) (*ec2DescribePlacementGroupsOutput, error) {
	st := s.ec2()
	var list []*PlacementGroup
	if len(in.GroupNames) > 0 || len(in.GroupIDs) > 0 {
		for _, name := range in.GroupNames {
			pg := st.PlacementGroups[name]
			if pg == nil {
				return nil, Errorf(400, "InvalidPlacementGroup.Unknown", "The Placement Group '%s' is unknown.", name)
			}
			list = append(list, pg)
		}
		for _, id := range in.GroupIDs {
			if !pgIDPattern.MatchString(id) {
				return nil, Errorf(400, "InvalidPlacementGroupId.Malformed", "Invalid id: \"%s\" (expecting \"pg-...\")", id)
			}
			var found *PlacementGroup
			for _, pg := range st.PlacementGroups {
				if pg.ID == id {
					found = pg
				}
			}
			if found == nil {
				return nil, Errorf(400, "InvalidPlacementGroup.Unknown", "The Placement Group '%s' is unknown.", id)
			}
			list = append(list, found)
		}
	} else {
		for _, name := range sortedKeys(st.PlacementGroups) {
			list = append(list, st.PlacementGroups[name])
		}
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	views := make([]placementGroupView, len(list))
	for i, pg := range list {
		views[i] = placementGroupView{pg, placementGroupXML{GroupName: pg.Name, State: pg.State, Strategy: pg.Strategy,
			PartitionCount: pg.PartitionCount, GroupID: pg.ID, TagSet: tagsXML(pg.Tags), SpreadLevel: pg.SpreadLevel,
			GroupArn: "arn:aws:ec2:" + s.world.Region + ":" + AccountID + ":placement-group/" + pg.Name}}
	}
	views, err := applyFilters("DescribePlacementGroups", views, in.Filters, placementGroupFields,
		func(v placementGroupView) map[string]string { return v.pg.Tags })
	if err != nil {
		return nil, err
	}
	out := ec2DescribePlacementGroupsOutput{}
	for _, v := range views {
		out.Groups.Item = append(out.Groups.Item, v.x)
	}
	return &out, nil
}
