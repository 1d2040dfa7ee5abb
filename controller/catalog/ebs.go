package catalog

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:embed data/ebs-prices.csv
var ebsPricesCSV []byte

// HoursPerMonth converts AWS's per-month EBS rates to $/h. AWS prorates a
// GB-month by the second over the calendar month (672 to 744 hours); 730 is
// the average month (8760 h / 12), the figure AWS's own cost tooling uses
// (data/README.md cites it).
const HoursPerMonth = 730

// The IOPS and throughput every gp3 volume includes at no charge (AWS EC2
// user guide, general-purpose.md; data/README.md).
const (
	GP3FreeIOPS            = 3000
	GP3FreeThroughputMiBps = 125
)

// ErrUnpriced says a part of a volume has no price in the embedded data
// (data/README.md lists what no primary source gives).
var ErrUnpriced = errors.New("no price in the embedded EBS data")

// Volume is one EBS volume as it is provisioned.
type Volume struct {
	Type            string // gp3, gp2, io1, io2, st1, sc1, standard
	SizeGiB         int64
	IOPS            int64 // provisioned IOPS (gp3, io1, io2); 0 for none
	ThroughputMiBps int64 // provisioned throughput (gp3); 0 for none
}

// EBSRate is one priced dimension of a volume type: $ per unit-month for
// units in [From, To) (To 0: no upper bound). Units are GB for storage,
// IOPS for iops and MiB/s for throughput.
type EBSRate struct {
	From, To int64
	USD      float64
}

// EBSPricing is one region's EBS price list: volume type -> dimension
// ("storage", "iops", "throughput") -> rates by tier, lowest first.
type EBSPricing struct {
	Region string
	Rates  map[string]map[string][]EBSRate
}

var (
	ebsOnce     sync.Once
	ebsByRegion map[string]EBSPricing
	ebsErr      error
)

// EBSPrices is the embedded EBS price list of region, or false when the
// data has none for it.
func EBSPrices(region string) (EBSPricing, bool) {
	ebsOnce.Do(func() { ebsByRegion, ebsErr = ParseEBSPrices(bytes.NewReader(ebsPricesCSV)) })
	p, ok := ebsByRegion[region]
	return p, ok && ebsErr == nil
}

// EBSPricesErr reports whether the embedded EBS data parsed.
func EBSPricesErr() error {
	EBSPrices("")
	return ebsErr
}

// ParseEBSPrices reads a price list in data/ebs-prices.csv's format.
func ParseEBSPrices(r io.Reader) (map[string]EBSPricing, error) {
	rows, err := readTable(r, "region", "volume_type", "dimension", "from", "to", "usd_per_month")
	if err != nil {
		return nil, fmt.Errorf("reading EBS prices: %w", err)
	}
	out := map[string]EBSPricing{}
	for i, row := range rows {
		line := i + 2
		dim := row["dimension"]
		if dim != "storage" && dim != "iops" && dim != "throughput" {
			return nil, fmt.Errorf("EBS prices line %d: dimension %q is not storage, iops or throughput", line, dim)
		}
		var rate EBSRate
		if rate.From, err = strconv.ParseInt(row["from"], 10, 64); err != nil {
			return nil, fmt.Errorf("EBS prices line %d: from: %w", line, err)
		}
		if row["to"] != "" {
			if rate.To, err = strconv.ParseInt(row["to"], 10, 64); err != nil || rate.To <= rate.From {
				return nil, fmt.Errorf("EBS prices line %d: to %q must be a number above from", line, row["to"])
			}
		}
		if rate.USD, err = strconv.ParseFloat(row["usd_per_month"], 64); err != nil || rate.USD < 0 {
			return nil, fmt.Errorf("EBS prices line %d: want a price >= 0, got %q", line, row["usd_per_month"])
		}
		p, ok := out[row["region"]]
		if !ok {
			p = EBSPricing{Region: row["region"], Rates: map[string]map[string][]EBSRate{}}
			out[p.Region] = p
		}
		if p.Rates[row["volume_type"]] == nil {
			p.Rates[row["volume_type"]] = map[string][]EBSRate{}
		}
		p.Rates[row["volume_type"]][dim] = append(p.Rates[row["volume_type"]][dim], rate)
	}
	for _, p := range out {
		for typ, dims := range p.Rates {
			for dim, rates := range dims {
				sort.Slice(rates, func(i, j int) bool { return rates[i].From < rates[j].From })
				for i := 1; i < len(rates); i++ {
					if rates[i-1].To == 0 || rates[i-1].To > rates[i].From {
						return nil, fmt.Errorf("EBS prices %s %s %s: tiers overlap at %d", p.Region, typ, dim, rates[i].From)
					}
				}
			}
		}
	}
	return out, nil
}

// Hourly is the $/h of a volume, part by part: storage, plus provisioned
// IOPS and throughput above what the type includes. Magnetic (standard)
// volumes also pay per million I/O requests; use is unknown before launch,
// so that charge is left out. When a part the volume uses has no price,
// the error wraps ErrUnpriced and the number is the sum of the parts that
// have one, a lower bound.
func (p EBSPricing) Hourly(v Volume) (float64, error) {
	if v.SizeGiB < 0 || v.IOPS < 0 || v.ThroughputMiBps < 0 {
		return 0, fmt.Errorf("volume %+v: size, IOPS and throughput must not be negative", v)
	}
	var freeIOPS, freeThroughput int64
	switch v.Type {
	case "gp3":
		freeIOPS, freeThroughput = GP3FreeIOPS, GP3FreeThroughputMiBps
	case "io1", "io2":
	case "gp2", "st1", "sc1", "standard":
		// Performance comes with the size: nothing else is billed.
		v.IOPS, v.ThroughputMiBps = 0, 0
	default:
		return 0, fmt.Errorf("volume type %q: want gp3, gp2, io1, io2, st1, sc1 or standard", v.Type)
	}
	var month float64
	var missing []string
	for _, part := range []struct {
		dim   string
		units int64
	}{
		{"storage", v.SizeGiB},
		{"iops", v.IOPS - freeIOPS},
		{"throughput", v.ThroughputMiBps - freeThroughput},
	} {
		if part.units <= 0 {
			continue
		}
		usd, priced := tiered(p.Rates[v.Type][part.dim], part.units)
		month += usd
		if priced < part.units {
			missing = append(missing, fmt.Sprintf("%s %s (%d of %d units)", v.Type, part.dim, part.units-priced, part.units))
		}
	}
	hourly := month / HoursPerMonth
	if len(missing) > 0 {
		return hourly, fmt.Errorf("%s: %w: %s", p.Region, ErrUnpriced, strings.Join(missing, ", "))
	}
	return hourly, nil
}

// tiered prices units [0, units) through the tiers; priced counts the
// units some tier covered.
func tiered(rates []EBSRate, units int64) (usd float64, priced int64) {
	for _, r := range rates {
		hi := units
		if r.To != 0 && r.To < hi {
			hi = r.To
		}
		if hi > r.From {
			usd += float64(hi-r.From) * r.USD
			priced += hi - r.From
		}
	}
	return usd, priced
}
