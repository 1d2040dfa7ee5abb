package simulate_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/awscloud"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/simulate"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

// TestEC2CatalogAgreesWithController prices the embedded catalog offline
// at two hours and compares it, offering by offering, with what the
// controller's AWS cloud provider reads from the local cloud's endpoint
// (DescribeInstanceTypes, DescribeSpotPriceHistory, Price List GetProducts)
// at the same moments. The hours are far enough apart for spot prices to
// move, so an offline price that ignored the time would be caught.
func TestEC2CatalogAgreesWithController(t *testing.T) {
	const region, cluster = "us-east-1", "agree"
	t1 := time.Date(2026, 11, 1, 10, 30, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(t1)
	emu := awsemu.NewForTest(t, awsemu.Options{Clock: clk, World: awsemu.WorldOptions{ClusterName: cluster, ClusterEndpoint: "https://127.0.0.1:6443"}})
	cfg := emu.Config()
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	kube := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&v1.EC2NodeClass{}).Build()
	p, err := awscloud.New(cfg, awscloud.Options{ClusterName: cluster, ClusterEndpoint: "https://127.0.0.1:6443", ClusterCABundle: "Y2E=", Kube: kube, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("node-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	nc := &v1.EC2NodeClass{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: v1.EC2NodeClassSpec{
		SubnetSelectorTerms:        []v1.SubnetSelectorTerm{{Tags: map[string]string{"nodewright.dev/discovery": cluster}}},
		SecurityGroupSelectorTerms: []v1.SecurityGroupSelectorTerm{{Tags: map[string]string{"nodewright.dev/discovery": cluster}}},
		AMISelectorTerms:           []v1.AMISelectorTerm{{Alias: "al2023@latest"}},
		Role:                       "node-role",
	}}
	if err := p.ResolveNodeClass(ctx, nc); err != nil {
		t.Fatalf("resolving the node class: %v", err)
	}
	status := nc.Status
	if err := kube.Create(ctx, nc); err != nil {
		t.Fatal(err)
	}
	nc.Status = status
	if err := kube.Status().Update(ctx, nc); err != nil {
		t.Fatal(err)
	}
	zoneSet := map[string]bool{}
	for _, s := range nc.Status.Subnets {
		zoneSet[s.Zone] = true
	}
	var zones []string
	for z := range zoneSet {
		zones = append(zones, z)
	}
	sort.Strings(zones)
	np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	np.Spec.Template.Spec.NodeClassRef = &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"}

	prices := map[time.Time]map[string]float64{}
	for _, at := range []time.Time{t1, t1.Add(5 * time.Hour)} {
		clk.SetTime(at) // past the provider's price cache TTL: it reads again
		live, err := p.InstanceTypes(ctx, np)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.PricesReadAt(); !got.Equal(at) {
			t.Errorf("PricesReadAt = %s, want %s", got, at)
		}
		offline, err := simulate.EC2Catalog(region, zones, 0, at)
		if err != nil {
			t.Fatal(err)
		}
		prices[at] = compareCatalogs(t, at, live, offline)
	}
	moved := 0
	for k, v := range prices[t1] {
		if prices[t1.Add(5*time.Hour)][k] != v {
			moved++
		}
	}
	if moved == 0 {
		t.Errorf("no price moved between %s and 5 hours later: the test cannot tell a time-blind offline price", t1)
	}
	t.Logf("%d types, %d offerings; %d prices moved in 5 hours", len(prices[t1])/(2*len(zones)), len(prices[t1]), moved)
}

// compareCatalogs fails on any difference a plan could see: the types,
// their labels and allocatable, and every offering's price. It returns the
// prices by type/zone/capacity type.
func compareCatalogs(t *testing.T, at time.Time, live, offline []*scheduling.InstanceType) map[string]float64 {
	t.Helper()
	byName := map[string]*scheduling.InstanceType{}
	for _, it := range offline {
		byName[it.Name] = it
	}
	if len(live) == 0 || len(live) != len(offline) {
		t.Fatalf("at %s: the controller sees %d types, simulate %d", at, len(live), len(offline))
	}
	out := map[string]float64{}
	diffs := 0
	for _, l := range live {
		o, ok := byName[l.Name]
		if !ok {
			t.Fatalf("at %s: simulate lacks %s", at, l.Name)
		}
		if !equality.Semantic.DeepEqual(l.Labels, o.Labels) || !equality.Semantic.DeepEqual(l.Allocatable, o.Allocatable) {
			diffs++
			if diffs <= 5 {
				t.Errorf("at %s: %s differs: controller %v %v, simulate %v %v", at, l.Name, l.Labels, l.Allocatable, o.Labels, o.Allocatable)
			}
		}
		offerings := func(it *scheduling.InstanceType) map[string]float64 {
			m := map[string]float64{}
			for _, off := range it.Offerings {
				m[fmt.Sprintf("%s/%s/%s", it.Name, off.Zone, off.CapacityType)] = off.Price
			}
			return m
		}
		lo, oo := offerings(l), offerings(o)
		if len(lo) != len(oo) {
			t.Errorf("at %s: %s has %d offerings for the controller, %d for simulate", at, l.Name, len(lo), len(oo))
		}
		for k, v := range lo {
			if oo[k] != v {
				diffs++
				if diffs <= 5 {
					t.Errorf("at %s: %s costs $%v/h for the controller, $%v/h for simulate", at, k, v, oo[k])
				}
			}
			out[k] = v
		}
	}
	if diffs > 5 {
		t.Errorf("at %s: %d differences in all", at, diffs)
	}
	return out
}
