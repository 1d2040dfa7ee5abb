package catalog

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestEmbeddedEBSPricesMatchTheSource(t *testing.T) {
	if err := EBSPricesErr(); err != nil {
		t.Fatal(err)
	}
	p, ok := EBSPrices("us-east-1")
	if !ok {
		t.Fatal("no us-east-1 EBS prices")
	}
	// The AWS figures in data/README.md, per GB-month.
	for typ, want := range map[string]float64{"gp3": 0.08, "gp2": 0.10, "io1": 0.125, "io2": 0.125} {
		got, err := p.Hourly(Volume{Type: typ, SizeGiB: 1})
		if err != nil || !near(got, want/HoursPerMonth) {
			t.Errorf("%s: 1 GiB costs %v/h (%v), want %v/730", typ, got, err, want)
		}
	}
	// The default root volume: 20 GiB gp3 at $0.08/GB-month.
	if got, err := p.Hourly(Volume{Type: "gp3", SizeGiB: 20, IOPS: 3000, ThroughputMiBps: 125}); err != nil || !near(got, 20*0.08/730) {
		t.Errorf("20 GiB gp3 at the free IOPS and throughput: %v (%v), want %v", got, err, 20*0.08/730)
	}
	if _, ok := EBSPrices("xx-nowhere-1"); ok {
		t.Error("a region the data lacks must say so")
	}
}

const testPrices = `region,volume_type,dimension,from,to,usd_per_month
r,gp3,storage,0,,0.08
r,gp3,iops,0,,0.005
r,gp3,throughput,0,,0.04
r,io2,storage,0,,0.125
r,io2,iops,0,32000,0.065
r,io2,iops,32000,64000,0.0455
r,io2,iops,64000,,0.032
r,st1,storage,0,,0.045
`

func testPricing(t *testing.T) EBSPricing {
	t.Helper()
	all, err := ParseEBSPrices(strings.NewReader(testPrices))
	if err != nil {
		t.Fatal(err)
	}
	return all["r"]
}

func TestGP3IsPricedPartByPart(t *testing.T) {
	p := testPricing(t)
	got, err := p.Hourly(Volume{Type: "gp3", SizeGiB: 100, IOPS: 5000, ThroughputMiBps: 250})
	// storage 100 GB, 2000 IOPS and 125 MiB/s above the free allowance.
	want := (100*0.08 + 2000*0.005 + 125*0.04) / 730
	if err != nil || !near(got, want) {
		t.Fatalf("got %v (%v), want %v", got, err, want)
	}
	base, _ := p.Hourly(Volume{Type: "gp3", SizeGiB: 100})
	if !near(base, 100*0.08/730) {
		t.Fatalf("no extra IOPS or throughput: %v, want storage only", base)
	}
}

func TestIO2IOPSAreTiered(t *testing.T) {
	p := testPricing(t)
	got, err := p.Hourly(Volume{Type: "io2", SizeGiB: 10, IOPS: 70000})
	want := (10*0.125 + 32000*0.065 + 32000*0.0455 + 6000*0.032) / 730
	if err != nil || !near(got, want) {
		t.Fatalf("got %v (%v), want %v", got, err, want)
	}
}

func TestUnpricedPartsAreReportedNotZeroed(t *testing.T) {
	p, _ := EBSPrices("us-east-1")
	got, err := p.Hourly(Volume{Type: "gp3", SizeGiB: 50, IOPS: 6000})
	if !errors.Is(err, ErrUnpriced) || !strings.Contains(err.Error(), "gp3 iops") {
		t.Fatalf("extra gp3 IOPS have no source price: want ErrUnpriced naming them, got %v", err)
	}
	if !near(got, 50*0.08/730) {
		t.Errorf("the priced part (storage) should still be returned: %v", got)
	}
	if _, err := p.Hourly(Volume{Type: "io2", SizeGiB: 10, IOPS: 40000}); !errors.Is(err, ErrUnpriced) {
		t.Errorf("io2 IOPS above 32000 have no source price: want ErrUnpriced, got %v", err)
	}
	if _, err := p.Hourly(Volume{Type: "gp4", SizeGiB: 10}); err == nil || errors.Is(err, ErrUnpriced) {
		t.Errorf("an unknown volume type is bad input, not a missing price: %v", err)
	}
	// gp2 and st1 performance comes with the size: IOPS must not be billed.
	tp := testPricing(t)
	if got, err := tp.Hourly(Volume{Type: "st1", SizeGiB: 500, IOPS: 9999}); err != nil || !near(got, 500*0.045/730) {
		t.Errorf("st1: %v (%v)", got, err)
	}
}

func TestParseEBSPricesRejectsBadRows(t *testing.T) {
	for _, bad := range []string{
		"region,volume_type,dimension,from,to,usd_per_month\nr,gp3,speed,0,,1\n",
		"region,volume_type,dimension,from,to,usd_per_month\nr,gp3,storage,0,,-1\n",
		"region,volume_type,dimension,from,to,usd_per_month\nr,io2,iops,0,,1\nr,io2,iops,100,,1\n",
		"region,volume_type,dimension,from,usd_per_month\nr,gp3,storage,0,1\n",
	} {
		if _, err := ParseEBSPrices(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
