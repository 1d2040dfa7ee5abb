// Package catalog is the embedded EC2 instance-type catalog: 1382 real
// instance types with their vCPU, memory, architecture, accelerators, ENI
// limits and on-demand prices. Sources and derivation rules are in
// data/README.md. It is pure data: the controller uses it as a price fallback
// and for offline simulation, and the local cloud's EC2 emulator serves it.
package catalog

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"sync"
)

//go:embed data/ec2-instance-types.csv
var instanceTypesCSV []byte

// InstanceType is one row of the catalog. Zero means "not known" for the
// optional numeric fields (prices, bandwidth, ENI limits).
type InstanceType struct {
	Name                 string
	Family               string
	Category             string
	Generation           int
	Size                 string
	VCPU                 int
	MemoryMiB            int64
	Architecture         string // amd64 | arm64
	CPUManufacturer      string
	GPUCount             int
	GPUName              string
	GPUManufacturer      string
	GPUMemoryMiB         int64 // per GPU
	MaxENIs              int
	IPv4PerENI           int
	NetworkBandwidthMbps int
	LocalNVMeGB          int
	Hypervisor           string
	BareMetal            bool
	Burstable            bool
	OnDemandPrice        map[string]float64 // region -> USD/hour
	AcceleratorCount     int
	AcceleratorName      string
	AcceleratorMfr       string
	MaxENIsDefaultCard   int
	BranchENIs           int
	MaxPodsENI           int // EKS max-pods table value
	EBSBandwidthMbps     int
	// BaselineCPUPerVCPU is a burstable type's baseline share of each vCPU
	// (0.2 for 20%); 0 for types that do not burst.
	BaselineCPUPerVCPU float64
	// SurplusPerVCPUHour is the unlimited-mode surplus credit price of a
	// burstable type; 0 when not burstable or no source gives it.
	SurplusPerVCPUHour float64
	// MaxEBSAttachments is the most EBS volumes the type attaches, root
	// included (DescribeInstanceTypes MaximumEbsAttachments);
	// EBSAttachmentsShared says network interfaces and NVMe instance store
	// share that limit (AttachmentLimitType shared).
	MaxEBSAttachments    int
	EBSAttachmentsShared bool
}

var (
	loadOnce sync.Once
	loaded   []InstanceType
	loadErr  error
)

// InstanceTypes returns the embedded catalog, parsed once. Callers must not
// modify the returned slice.
func InstanceTypes() ([]InstanceType, error) {
	loadOnce.Do(func() { loaded, loadErr = Parse(bytes.NewReader(instanceTypesCSV)) })
	return loaded, loadErr
}

// Parse reads a catalog in the embedded CSV's format.
func Parse(r io.Reader) ([]InstanceType, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading catalog header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, required := range []string{"name", "vcpu", "memory_mib", "architecture"} {
		if _, ok := col[required]; !ok {
			return nil, fmt.Errorf("catalog is missing column %q", required)
		}
	}
	var out []InstanceType
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("catalog line %d: %w", line, err)
		}
		row := rowReader{rec: rec, col: col}
		it := InstanceType{
			Name: row.str("name"), Family: row.str("family"), Category: row.str("category"),
			Generation: row.int("generation"), Size: row.str("size"), VCPU: row.int("vcpu"),
			MemoryMiB: int64(row.int("memory_mib")), Architecture: row.str("architecture"),
			CPUManufacturer: row.str("cpu_manufacturer"), GPUCount: row.int("gpu_count"),
			GPUName: row.str("gpu_name"), GPUManufacturer: row.str("gpu_manufacturer"),
			GPUMemoryMiB: int64(row.int("gpu_memory_mib")), MaxENIs: row.int("max_enis"),
			IPv4PerENI: row.int("ipv4_per_eni"), NetworkBandwidthMbps: row.int("network_bandwidth_mbps"),
			LocalNVMeGB: row.int("local_nvme_gb"), Hypervisor: row.str("hypervisor"),
			BareMetal: row.str("bare_metal") == "true", Burstable: row.str("burstable") == "true",
			OnDemandPrice:    map[string]float64{},
			AcceleratorCount: row.int("accelerator_count"), AcceleratorName: row.str("accelerator_name"),
			AcceleratorMfr: row.str("accelerator_manufacturer"), MaxENIsDefaultCard: row.int("max_enis_default_card"),
			BranchENIs: row.int("branch_enis"), MaxPodsENI: row.int("max_pods_eni"), EBSBandwidthMbps: row.int("ebs_bandwidth_mbps"),
		}
		if p := row.float("ondemand_usd_per_hour_us_east_1"); p > 0 {
			it.OnDemandPrice["us-east-1"] = p
		}
		if p := row.float("ondemand_usd_per_hour_us_west_2"); p > 0 {
			it.OnDemandPrice["us-west-2"] = p
		}
		if row.err != nil {
			return nil, fmt.Errorf("catalog line %d (%s): %w", line, it.Name, row.err)
		}
		if it.Burstable {
			if err := it.fillBurst(); err != nil {
				return nil, fmt.Errorf("catalog line %d: %w", line, err)
			}
		}
		if err := it.FillEBSAttachments(); err != nil {
			return nil, fmt.Errorf("catalog line %d: %w", line, err)
		}
		out = append(out, it)
	}
}

// fillBurst sets a burstable type's baseline and surplus price from the
// credit table; a burstable type missing from it is an error, not a silent
// zero baseline (which would price every millicore as surplus).
func (it *InstanceType) fillBurst() error {
	if _, err := Baselines(); err != nil {
		return err
	}
	b, ok := BurstableBaseline(it.Name)
	if !ok {
		return fmt.Errorf("%s is burstable but has no row in data/burstable-baselines.csv", it.Name)
	}
	it.BaselineCPUPerVCPU = b
	it.SurplusPerVCPUHour, _ = SurplusPerVCPUHour(it.Family)
	return nil
}

// FillBurst is fillBurst for records built elsewhere (from
// DescribeInstanceTypes, say): it leaves non-burstable types alone.
func (it *InstanceType) FillBurst() error {
	if !it.Burstable {
		return nil
	}
	return it.fillBurst()
}

// Price returns the on-demand list price in region, or us-east-1's where
// the data has none: for an unpriced region (PriceRegion), and for the
// types the us-west-2 column leaves empty (data/README.md says why).
func (it InstanceType) Price(region string) (float64, bool) {
	if p, ok := it.OnDemandPrice[region]; ok {
		return p, true
	}
	p, ok := it.OnDemandPrice["us-east-1"]
	return p, ok
}

type rowReader struct {
	rec []string
	col map[string]int
	err error
}

func (r *rowReader) str(name string) string {
	i, ok := r.col[name]
	if !ok || i >= len(r.rec) {
		return ""
	}
	return r.rec[i]
}

func (r *rowReader) int(name string) int {
	s := r.str(name)
	if s == "" {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("column %s: %w", name, err)
	}
	return v
}

func (r *rowReader) float(name string) float64 {
	s := r.str(name)
	if s == "" {
		return 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("column %s: %w", name, err)
	}
	return v
}
