package awsemu

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// sdkFilterDocs reads, for an EC2 operation, the Filters doc comment of its
// Input struct in the aws-sdk-go-v2 ec2 package this module builds with:
// the comment text and the filter names it bullets ("//   - name - ...").
// ok is false when the Input takes no filters.
func sdkFilterDocs(t *testing.T, dir, op string) (text string, names []string, ok bool) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(dir, "api_op_"+op+".go"))
	if err != nil {
		t.Fatalf("reading the SDK's %s: %v", op, err)
	}
	body, found := strings.CutPrefix(string(src)[strings.Index(string(src), "type "+op+"Input struct {"):], "type "+op+"Input struct {")
	if !found {
		t.Fatalf("no %sInput struct in the SDK", op)
	}
	body = body[:strings.Index(body, "\n}")]
	lines := strings.Split(body, "\n")
	field := slices.IndexFunc(lines, func(l string) bool {
		return l == "\tFilters []types.Filter" || l == "\tFilter []types.Filter"
	})
	if field < 0 {
		return "", nil, false
	}
	start := field
	for start > 0 && strings.HasPrefix(lines[start-1], "\t//") {
		start--
	}
	bullet := regexp.MustCompile(`^\t//   - (\S+(?: :)?)(?: -(?: |$)|$)`)
	for _, l := range lines[start:field] {
		if m := bullet.FindStringSubmatch(l); m != nil {
			name := m[1]
			// The generator drops "<key>" from "tag:<key>", leaving "tag",
			// "tag:" or "tag :".
			if name == "tag" || name == "tag:" || name == "tag :" {
				name = "tag:<key>"
			}
			names = append(names, name)
		}
	}
	return strings.Join(lines[start:field], "\n"), names, true
}

// nestedValueBullets are bullets of the SDK's flattened comments that the
// API reference nests under another filter as its values: they are not
// filter names.
var nestedValueBullets = map[string][]string{
	"DescribeCapacityReservations": {"default", "dedicated", "active", "expired", "cancelled", "pending", "failed", "unlimited",
		"limited", "open", "targeted"},
	"DescribeImages": {"informational", "low", "medium", "high", "critical"},
}

// undocumentedButAccepted are table entries the reference does not list,
// each with the evidence that EC2 accepts them (see ec2FilterTable).
var undocumentedButAccepted = map[string][]string{
	"DescribeCapacityReservations": {"tag:<key>", "tag-key"},
}

func sdkEC2Dir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-sdk-go-v2/service/ec2").Output()
	if err != nil {
		t.Fatalf("finding the aws-sdk-go-v2 ec2 module (go list -m): %v", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatal("go list -m gave no directory for the ec2 module; run go mod download")
	}
	return dir
}

// TestEC2FilterTableCoversTheAPIReference checks ec2FilterTable against the
// API reference, as the SDK's doc comments carry it, for every EC2 action
// the emulator serves: a documented filter the table lacks fails, and so
// does a table entry the reference does not mention.
func TestEC2FilterTableCoversTheAPIReference(t *testing.T) {
	dir := sdkEC2Dir(t)
	s := NewForTest(t, Options{})
	var withFilters []string
	for op := range s.ops["ec2"] {
		text, names, ok := sdkFilterDocs(t, dir, op)
		table, inTable := ec2FilterTable[op]
		switch {
		case !ok && inTable:
			t.Errorf("%s takes no filters in the SDK but has a filter table", op)
			continue
		case !ok:
			continue
		case !inTable:
			t.Errorf("%s takes filters but ec2FilterTable has no entry for it", op)
			continue
		}
		withFilters = append(withFilters, op)
		nested := nestedValueBullets[op]
		for _, name := range names {
			if slices.Contains(nested, name) {
				if _, listed := table[name]; listed {
					t.Errorf("%s: %q is a value of another filter, not a filter", op, name)
				}
				continue
			}
			if _, listed := table[name]; !listed {
				t.Errorf("%s: the API reference documents filter %q; ec2FilterTable lacks it", op, name)
			}
		}
		for _, name := range nested {
			if !slices.Contains(names, name) {
				t.Errorf("%s: nestedValueBullets lists %q, which the doc comment no longer bullets", op, name)
			}
		}
		for name := range table {
			if slices.Contains(undocumentedButAccepted[op], name) {
				continue
			}
			mention := name
			if name == "tag:<key>" {
				mention = "tag"
			}
			if !strings.Contains(text, mention) {
				t.Errorf("%s: ec2FilterTable lists %q, which the API reference does not mention", op, name)
			}
		}
	}
	for op := range ec2FilterTable {
		if s.ops["ec2"][op].handler == nil {
			t.Errorf("ec2FilterTable has %s, which the emulator does not serve", op)
		}
	}
	sort.Strings(withFilters)
	if len(withFilters) < 12 {
		t.Errorf("only %d served operations take filters (%v); the doc parsing is broken", len(withFilters), withFilters)
	}
}

// describeWith calls each filtered EC2 operation through the SDK.
var describeWith = map[string]func(context.Context, *ec2.Client, []types.Filter) (int, error){
	"DescribeInstanceTypes": func(ctx context.Context, c *ec2.Client, f []types.Filter) (int, error) {
		out, err := c.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{Filters: f})
		if err != nil {
			return 0, err
		}
		return len(out.InstanceTypes), nil
	},
	"DescribeInstanceTypeOfferings": func(ctx context.Context, c *ec2.Client, f []types.Filter) (int, error) {
		out, err := c.DescribeInstanceTypeOfferings(ctx, &ec2.DescribeInstanceTypeOfferingsInput{Filters: f})
		if err != nil {
			return 0, err
		}
		return len(out.InstanceTypeOfferings), nil
	},
	"DescribeAvailabilityZones": func(ctx context.Context, c *ec2.Client, f []types.Filter) (int, error) {
		out, err := c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{Filters: f})
		if err != nil {
			return 0, err
		}
		return len(out.AvailabilityZones), nil
	},
	"DescribeSpotPriceHistory": func(ctx context.Context, c *ec2.Client, f []types.Filter) (int, error) {
		out, err := c.DescribeSpotPriceHistory(ctx, &ec2.DescribeSpotPriceHistoryInput{Filters: f})
		if err != nil {
			return 0, err
		}
		return len(out.SpotPriceHistory), nil
	},
	"DescribeSubnets": func(ctx context.Context, c *ec2.Client, f []types.Filter) (int, error) {
		out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: f})
		if err != nil {
			return 0, err
		}
		return len(out.Subnets), nil
	},
	"DescribeSecurityGroups": func(ctx context.Context, c *ec2.Client, f []types.Filter) (int, error) {
		out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: f})
		if err != nil {
			return 0, err
		}
		return len(out.SecurityGroups), nil
	},
	"DescribeImages": func(ctx context.Context, c *ec2.Client, f []types.Filter) (int, error) {
		out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: f})
		if err != nil {
			return 0, err
		}
		return len(out.Images), nil
	},
	"DescribeLaunchTemplates": func(ctx context.Context, c *ec2.Client, f []types.Filter) (int, error) {
		out, err := c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{Filters: f})
		if err != nil {
			return 0, err
		}
		return len(out.LaunchTemplates), nil
	},
	"DescribeInstances": func(ctx context.Context, c *ec2.Client, f []types.Filter) (int, error) {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: f})
		if err != nil {
			return 0, err
		}
		return len(out.Reservations), nil
	},
	"DescribeInstanceStatus": func(ctx context.Context, c *ec2.Client, f []types.Filter) (int, error) {
		out, err := c.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{Filters: f, IncludeAllInstances: aws.Bool(true)})
		if err != nil {
			return 0, err
		}
		return len(out.InstanceStatuses), nil
	},
	"DescribeCapacityReservations": func(ctx context.Context, c *ec2.Client, f []types.Filter) (int, error) {
		out, err := c.DescribeCapacityReservations(ctx, &ec2.DescribeCapacityReservationsInput{Filters: f})
		if err != nil {
			return 0, err
		}
		return len(out.CapacityReservations), nil
	},
	"DescribePlacementGroups": func(ctx context.Context, c *ec2.Client, f []types.Filter) (int, error) {
		out, err := c.DescribePlacementGroups(ctx, &ec2.DescribePlacementGroupsInput{Filters: f})
		if err != nil {
			return 0, err
		}
		return len(out.PlacementGroups), nil
	},
}

// TestEC2EveryTableFilterIsServed sends every filter of the table, through
// the SDK, to its operation: each is accepted (the handler reads it or the
// table says why it cannot), and a name outside the table gets EC2's error.
func TestEC2EveryTableFilterIsServed(t *testing.T) {
	_, c := newEC2(t, Options{})
	ctx := context.Background()
	for op, table := range ec2FilterTable {
		call := describeWith[op]
		if call == nil {
			t.Errorf("describeWith has no call for %s", op)
			continue
		}
		for name := range table {
			if name == "tag:<key>" {
				name = "tag:team"
			}
			if _, err := call(ctx, c, []types.Filter{filter(name, "x")}); err != nil {
				t.Errorf("%s with filter %s: %v", op, name, err)
			}
		}
		_, err := call(ctx, c, []types.Filter{filter("no-such-filter", "x")})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidParameterValue" || apiErr.ErrorMessage() != "The filter 'no-such-filter' is invalid" {
			t.Errorf("%s with an undocumented filter: %v, want InvalidParameterValue: The filter 'no-such-filter' is invalid", op, err)
		}
	}
}

// maxInertFilters bounds the accepted-but-inert filters: lower it when the
// model gains the data a filter needs; raise it only with a reason in the table.
const maxInertFilters = 26

// TestEC2InertFiltersAreFewAndMatchNothing keeps the accepted-but-inert
// filters visible: each has a reason, none matches a resource even with a
// wildcard, and there are no more than maxInertFilters.
func TestEC2InertFiltersAreFewAndMatchNothing(t *testing.T) {
	_, c := newEC2(t, Options{})
	ctx := context.Background()
	inert := 0
	for op, table := range ec2FilterTable {
		for name, note := range table {
			if note == "" {
				continue
			}
			inert++
			if len(note) < 20 {
				t.Errorf("%s %s: the reason %q explains nothing", op, name, note)
			}
			if n, err := describeWith[op](ctx, c, []types.Filter{filter(name, "*")}); err != nil || n != 0 {
				t.Errorf("%s: inert filter %s=*: %v, %d matches", op, name, err, n)
			}
		}
	}
	if inert > maxInertFilters {
		t.Errorf("%d inert filters, more than %d", inert, maxInertFilters)
	}
}
