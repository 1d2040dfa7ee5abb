package catalog

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
)

// Burstable CPU: DescribeInstanceTypes says whether a type bursts but not
// its baseline or the price of surplus credits, so both come from the AWS
// pages cited in data/README.md.

//go:embed data/burstable-baselines.csv
var burstableBaselinesCSV []byte

//go:embed data/burstable-surplus.csv
var burstableSurplusCSV []byte

// Baseline is one burstable type's row of the EC2 credit table.
type Baseline struct {
	Name               string
	VCPU               int
	CPUCreditsPerHour  float64
	BaselineCPUPerVCPU float64 // 0.2 means 20% of each vCPU
}

var (
	burstOnce    sync.Once
	baselines    map[string]Baseline
	surplusRates map[string]float64 // family -> $/vCPU-hour; absent when no source gives it
	burstLoadErr error
)

func loadBurst() {
	baselines, burstLoadErr = parseBaselines(bytes.NewReader(burstableBaselinesCSV))
	if burstLoadErr != nil {
		return
	}
	surplusRates, burstLoadErr = parseSurplus(bytes.NewReader(burstableSurplusCSV))
}

// BurstableBaseline is the type's baseline CPU share per vCPU (0.2 for
// 20%), or false for a type that does not burst or is not in the table.
func BurstableBaseline(name string) (float64, bool) {
	burstOnce.Do(loadBurst)
	b, ok := baselines[name]
	return b.BaselineCPUPerVCPU, ok
}

// Baselines is the whole credit table, for checks against the catalog.
func Baselines() (map[string]Baseline, error) {
	burstOnce.Do(loadBurst)
	return baselines, burstLoadErr
}

// SurplusPerVCPUHour is the unlimited-mode price of surplus credits for a
// burstable family (Linux), or false when no primary source gives it.
func SurplusPerVCPUHour(family string) (float64, bool) {
	burstOnce.Do(loadBurst)
	p, ok := surplusRates[family]
	return p, ok
}

func parseBaselines(r io.Reader) (map[string]Baseline, error) {
	rows, err := readTable(r, "name", "vcpu", "cpu_credits_per_hour", "baseline_per_vcpu")
	if err != nil {
		return nil, fmt.Errorf("reading burstable baselines: %w", err)
	}
	out := map[string]Baseline{}
	for i, row := range rows {
		b := Baseline{Name: row["name"]}
		var errs []error
		v, err := strconv.Atoi(row["vcpu"])
		errs = append(errs, err)
		b.VCPU = v
		b.CPUCreditsPerHour, err = strconv.ParseFloat(row["cpu_credits_per_hour"], 64)
		errs = append(errs, err)
		b.BaselineCPUPerVCPU, err = strconv.ParseFloat(row["baseline_per_vcpu"], 64)
		errs = append(errs, err)
		for _, err := range errs {
			if err != nil {
				return nil, fmt.Errorf("burstable baselines line %d (%s): %w", i+2, b.Name, err)
			}
		}
		if b.VCPU <= 0 || b.BaselineCPUPerVCPU <= 0 || b.BaselineCPUPerVCPU > 1 {
			return nil, fmt.Errorf("burstable baselines line %d (%s): want vcpu > 0 and 0 < baseline <= 1", i+2, b.Name)
		}
		// AWS defines the baseline as credits earned per hour / vCPUs / 60
		// minutes; a row that breaks the rule was copied wrong.
		if want := b.CPUCreditsPerHour / float64(b.VCPU) / 60; math.Abs(want-b.BaselineCPUPerVCPU) > 1e-9 {
			return nil, fmt.Errorf("burstable baselines line %d (%s): baseline %v, but %v credits/h over %d vCPUs is %v",
				i+2, b.Name, b.BaselineCPUPerVCPU, b.CPUCreditsPerHour, b.VCPU, want)
		}
		if _, dup := out[b.Name]; dup {
			return nil, fmt.Errorf("burstable baselines line %d: %s is listed twice", i+2, b.Name)
		}
		out[b.Name] = b
	}
	return out, nil
}

func parseSurplus(r io.Reader) (map[string]float64, error) {
	rows, err := readTable(r, "family", "usd_per_vcpu_hour")
	if err != nil {
		return nil, fmt.Errorf("reading burstable surplus prices: %w", err)
	}
	out := map[string]float64{}
	for i, row := range rows {
		if row["usd_per_vcpu_hour"] == "" {
			continue // no primary source: left unpriced, not guessed
		}
		p, err := strconv.ParseFloat(row["usd_per_vcpu_hour"], 64)
		if err != nil || p <= 0 {
			return nil, fmt.Errorf("burstable surplus line %d (%s): want a positive price, got %q", i+2, row["family"], row["usd_per_vcpu_hour"])
		}
		out[row["family"]] = p
	}
	return out, nil
}

// readTable reads a small headed CSV into one map per row, requiring cols.
func readTable(r io.Reader, cols ...string) ([]map[string]string, error) {
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("no header")
	}
	idx := map[string]int{}
	for i, h := range recs[0] {
		idx[strings.TrimSpace(h)] = i
	}
	for _, c := range cols {
		if _, ok := idx[c]; !ok {
			return nil, fmt.Errorf("missing column %q", c)
		}
	}
	out := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for name, i := range idx {
			if i < len(rec) {
				row[name] = strings.TrimSpace(rec[i])
			}
		}
		out = append(out, row)
	}
	return out, nil
}
