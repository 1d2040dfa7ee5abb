package provider

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/providers/instancetype"
)

var (
	_ datasource.DataSourceWithConfigure      = (*instanceTypesDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*instanceTypesDataSource)(nil)
)

// requirementOperators are the node selector operators a requirement may use.
var requirementOperators = []string{
	string(corev1.NodeSelectorOpIn), string(corev1.NodeSelectorOpNotIn), string(corev1.NodeSelectorOpExists),
	string(corev1.NodeSelectorOpDoesNotExist), string(corev1.NodeSelectorOpGt), string(corev1.NodeSelectorOpLt),
}

type instanceTypesDataSource struct{ data *providerData }

func newInstanceTypesDataSource() datasource.DataSource { return &instanceTypesDataSource{} }

type instanceTypeRequirementModel struct {
	Key      types.String `tfsdk:"key"`
	Operator types.String `tfsdk:"operator"`
	Values   []string     `tfsdk:"values"`
}

type instanceTypeModel struct {
	Name          types.String  `tfsdk:"name"`
	VCPU          types.Int64   `tfsdk:"vcpu"`
	MemoryMiB     types.Int64   `tfsdk:"memory_mib"`
	Arch          types.String  `tfsdk:"arch"`
	OnDemandPrice types.Float64 `tfsdk:"on_demand_price"`
	SpotPrice     types.Float64 `tfsdk:"spot_price"`
	Zones         []string      `tfsdk:"zones"`
}

type instanceTypesModel struct {
	Region        types.String                   `tfsdk:"region"`
	Requirements  []instanceTypeRequirementModel `tfsdk:"requirements"`
	InstanceTypes []instanceTypeModel            `tfsdk:"instance_types"`
}

func (d *instanceTypesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instance_types"
}

func (d *instanceTypesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = instanceTypesSchema()
}

func instanceTypesSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "EC2 instance types offered in a region that satisfy NodePool-style requirements on the well-known labels " +
			"(`node.kubernetes.io/instance-type`, `kubernetes.io/arch`, `nodewright.dev/instance-family`, `nodewright.dev/instance-cpu`, " +
			"`topology.kubernetes.io/zone`, `nodewright.dev/capacity-type`, ...), evaluated exactly as the controller evaluates them, with current prices.",
		Attributes: map[string]schema.Attribute{
			"region": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "Region to list. Defaults to the provider's region.",
				Validators:          []validator.String{stringvalidator.RegexMatches(regionRE, "must be an AWS region such as us-east-1")},
			},
			"requirements": schema.ListNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Requirements every listed type satisfies (all must hold).",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"key": schema.StringAttribute{
							Required:            true,
							MarkdownDescription: "Label key, for example `kubernetes.io/arch`.",
							Validators:          []validator.String{stringvalidator.LengthBetween(1, 316)},
						},
						"operator": schema.StringAttribute{
							Required:            true,
							MarkdownDescription: "One of " + quoteList(requirementOperators) + ".",
							Validators:          []validator.String{stringvalidator.OneOf(requirementOperators...)},
						},
						"values": schema.ListAttribute{
							Optional:            true,
							ElementType:         types.StringType,
							MarkdownDescription: "Values; one integer for `Gt` and `Lt`, none for `Exists` and `DoesNotExist`.",
						},
					},
				},
			},
			"instance_types": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Matching types, cheapest on-demand first.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"name": schema.StringAttribute{
							Computed:            true,
							MarkdownDescription: "Instance type, for example `m5.large`.",
						},
						"vcpu": schema.Int64Attribute{
							Computed:            true,
							MarkdownDescription: "vCPUs.",
						},
						"memory_mib": schema.Int64Attribute{
							Computed:            true,
							MarkdownDescription: "Memory in MiB.",
						},
						"arch": schema.StringAttribute{
							Computed:            true,
							MarkdownDescription: "Kubernetes architecture: `amd64` or `arm64`.",
						},
						"on_demand_price": schema.Float64Attribute{
							Computed:            true,
							MarkdownDescription: "On-demand USD per hour in the region; null when unknown.",
						},
						"spot_price": schema.Float64Attribute{
							Computed:            true,
							MarkdownDescription: "Current lowest spot USD per hour over the matching zones; null when no spot price is published.",
						},
						"zones": schema.ListAttribute{
							Computed:            true,
							ElementType:         types.StringType,
							MarkdownDescription: "Matching zones that offer the type.",
						},
					},
				},
			},
		},
	}
}

func quoteList(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += "`" + v + "`"
	}
	return out
}

func (d *instanceTypesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = configuredData(req.ProviderData, &resp.Diagnostics)
}

func (m instanceTypeRequirementModel) toSelector() corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: m.Key.ValueString(), Operator: corev1.NodeSelectorOperator(m.Operator.ValueString()), Values: m.Values}
}

func (d *instanceTypesDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m instanceTypesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for i, r := range m.Requirements {
		if r.Key.IsUnknown() || r.Operator.IsUnknown() {
			continue
		}
		p := path.Root("requirements").AtListIndex(i)
		op := r.Operator.ValueString()
		switch op {
		case "Exists", "DoesNotExist":
			if len(r.Values) > 0 {
				resp.Diagnostics.AddAttributeError(p.AtName("values"), "Unexpected values", fmt.Sprintf("requirements[%d]: operator %s takes no values.", i, op))
			}
		case "Gt", "Lt":
			if len(r.Values) != 1 {
				resp.Diagnostics.AddAttributeError(p.AtName("values"), "Wrong number of values", fmt.Sprintf("requirements[%d]: operator %s takes exactly one integer value.", i, op))
			} else if _, err := strconv.Atoi(r.Values[0]); err != nil {
				resp.Diagnostics.AddAttributeError(p.AtName("values"), "Not an integer", fmt.Sprintf("requirements[%d]: operator %s needs an integer, got %q.", i, op, r.Values[0]))
			}
		case "In", "NotIn":
			if len(r.Values) == 0 {
				resp.Diagnostics.AddAttributeError(p.AtName("values"), "Missing values", fmt.Sprintf("requirements[%d]: operator %s needs at least one value.", i, op))
			}
		}
		if _, err := scheduling.NewRequirements(r.toSelector()); err != nil {
			resp.Diagnostics.AddAttributeError(p, "Invalid requirement", fmt.Sprintf("requirements[%d]: %v.", i, err))
		}
	}
}

func (d *instanceTypesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m instanceTypesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	region := m.Region.ValueString()
	if region == "" {
		region = d.data.AWS.Region
	}
	m.Region = types.StringValue(region)
	var sel []corev1.NodeSelectorRequirement
	for _, r := range m.Requirements {
		sel = append(sel, r.toSelector())
	}
	reqs, err := scheduling.NewRequirements(sel...)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("requirements"), "Invalid requirements", err.Error())
		return
	}
	all, err := catalog.InstanceTypes()
	if err != nil {
		resp.Diagnostics.AddError("Loading the instance type catalog", fmt.Sprintf("%v. This is a bug in the provider build.", err))
		return
	}
	cfg := d.data.AWS.Copy()
	cfg.Region = region
	c := ec2.NewFromConfig(cfg)

	// Zones offering each type.
	offered := map[string][]string{}
	op := ec2.NewDescribeInstanceTypeOfferingsPaginator(c, &ec2.DescribeInstanceTypeOfferingsInput{LocationType: ec2types.LocationTypeAvailabilityZone})
	for op.HasMorePages() {
		page, err := op.NextPage(ctx)
		if err != nil {
			resp.Diagnostics.AddError("Listing instance type offerings", awsDetail("ec2:DescribeInstanceTypeOfferings", "region "+region, err))
			return
		}
		for _, o := range page.InstanceTypeOfferings {
			offered[string(o.InstanceType)] = append(offered[string(o.InstanceType)], aws.ToString(o.Location))
		}
	}

	type match struct {
		it    catalog.InstanceType
		zones []string
	}
	var matches []match
	for _, it := range all {
		zones := offered[it.Name]
		if len(zones) == 0 {
			continue
		}
		labels := instancetype.Labels(it, region)
		var ok []string
		for _, z := range zones {
			labels[corev1.LabelTopologyZone] = z
			for _, ct := range []string{v1.CapacityTypeOnDemand, v1.CapacityTypeSpot} {
				labels[v1.CapacityTypeLabelKey] = ct
				if sat, _ := reqs.SatisfiedBy(labels); sat {
					ok = append(ok, z)
					break
				}
			}
		}
		if len(ok) > 0 {
			sort.Strings(ok)
			matches = append(matches, match{it, ok})
		}
	}

	spot, err := spotPrices(ctx, c, matches2names(len(matches), func(i int) string { return matches[i].it.Name }))
	if err != nil {
		resp.Diagnostics.AddError("Reading spot prices", awsDetail("ec2:DescribeSpotPriceHistory", "region "+region, err))
		return
	}
	m.InstanceTypes = make([]instanceTypeModel, 0, len(matches))
	for _, mt := range matches {
		out := instanceTypeModel{Name: types.StringValue(mt.it.Name), VCPU: types.Int64Value(int64(mt.it.VCPU)),
			MemoryMiB: types.Int64Value(mt.it.MemoryMiB), Arch: types.StringValue(mt.it.Architecture), Zones: mt.zones,
			OnDemandPrice: types.Float64Null(), SpotPrice: types.Float64Null()}
		if p, ok := mt.it.Price(region); ok {
			out.OnDemandPrice = types.Float64Value(p)
		}
		best := -1.0
		for _, z := range mt.zones {
			if p, ok := spot[mt.it.Name][z]; ok && (best < 0 || p < best) {
				best = p
			}
		}
		if best >= 0 {
			out.SpotPrice = types.Float64Value(best)
		}
		m.InstanceTypes = append(m.InstanceTypes, out)
	}
	sort.SliceStable(m.InstanceTypes, func(i, j int) bool {
		a, b := m.InstanceTypes[i], m.InstanceTypes[j]
		if a.OnDemandPrice.IsNull() != b.OnDemandPrice.IsNull() {
			return b.OnDemandPrice.IsNull()
		}
		if a.OnDemandPrice.ValueFloat64() != b.OnDemandPrice.ValueFloat64() {
			return a.OnDemandPrice.ValueFloat64() < b.OnDemandPrice.ValueFloat64()
		}
		return a.Name.ValueString() < b.Name.ValueString()
	})
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func matches2names(n int, f func(int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// spotPrices returns the current Linux spot price by type and zone.
func spotPrices(ctx context.Context, c *ec2.Client, names []string) (map[string]map[string]float64, error) {
	out := map[string]map[string]float64{}
	now := time.Now()
	// The API takes a bounded list of types per call.
	for start := 0; start < len(names); start += 100 {
		batch := names[start:min(start+100, len(names))]
		typesIn := make([]ec2types.InstanceType, len(batch))
		for i, n := range batch {
			typesIn[i] = ec2types.InstanceType(n)
		}
		p := ec2.NewDescribeSpotPriceHistoryPaginator(c, &ec2.DescribeSpotPriceHistoryInput{
			InstanceTypes: typesIn, ProductDescriptions: []string{"Linux/UNIX"}, StartTime: aws.Time(now),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, sp := range page.SpotPriceHistory {
				price, err := strconv.ParseFloat(aws.ToString(sp.SpotPrice), 64)
				if err != nil {
					continue
				}
				name, zone := string(sp.InstanceType), aws.ToString(sp.AvailabilityZone)
				if out[name] == nil {
					out[name] = map[string]float64{}
				}
				// Entries come newest first; keep the newest per zone.
				if _, seen := out[name][zone]; !seen {
					out[name][zone] = price
				}
			}
		}
	}
	return out, nil
}
