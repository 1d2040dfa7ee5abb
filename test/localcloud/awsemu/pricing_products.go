package awsemu

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/nodewright/nodewright/controller/catalog"
)

// Price List products: one per instance type, location and tenancy, with
// their attributes and price list JSON.

// pricingProduct is a candidate product; attributes are computed on demand so
// that filtering the whole catalog stays cheap.
type pricingProduct struct {
	it     *catalog.InstanceType
	region string
	price  float64
}

var instanceFamilies = map[string]string{
	"m": "General purpose", "t": "General purpose", "a": "General purpose",
	"c": "Compute optimized", "hpc": "Compute optimized",
	"r": "Memory optimized", "x": "Memory optimized", "u": "Memory optimized", "z": "Memory optimized",
	"i": "Storage optimized", "is": "Storage optimized", "im": "Storage optimized", "d": "Storage optimized", "h": "Storage optimized",
	"g": "GPU instance", "gr": "GPU instance", "p": "GPU instance", "vt": "GPU instance", "dl": "GPU instance",
	"f": "FPGA Instances", "inf": "Machine Learning ASIC Instances", "trn": "Machine Learning ASIC Instances",
}

func pricingLocation(region string) (name, usagePrefix string) {
	if l, ok := pricingLocations[region]; ok {
		return l.name, l.usagePrefix
	}
	return region, strings.ToUpper(region) + "-"
}

// formatGiB writes memory the way the Price List does: "8 GiB", "0.5 GiB", "1,952 GiB".
func formatGiB(mib int64) string {
	whole, frac := mib/1024, mib%1024
	s := strconv.FormatInt(whole, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if frac != 0 {
		f := strconv.FormatFloat(float64(frac)/1024, 'f', -1, 64)
		s += strings.TrimPrefix(f, "0")
	}
	return s + " GiB"
}

// The Price List files bare-metal types apart from virtualised ones: their
// own product family, with tenancy Dedicated, because a metal instance is
// the whole host. Karpenter's pricing provider queries the two separately.
func (p pricingProduct) family() string {
	if p.it.BareMetal {
		return "Compute Instance (bare metal)"
	}
	return "Compute Instance"
}

func (p pricingProduct) tenancy() string {
	if p.it.BareMetal {
		return "Dedicated"
	}
	return "Shared"
}

func (p pricingProduct) sku() string {
	h := sha256.Sum256([]byte("AmazonEC2/" + p.region + "/" + p.it.Name))
	return base32.StdEncoding.EncodeToString(h[:10])
}

// pricingAttributeKeys are the product attributes every EC2 product carries;
// gpu, gpuMemory, physicalProcessor and networkPerformance are added when known.
var pricingAttributeKeys = []string{
	"servicecode", "servicename", "instanceType", "instanceFamily", "vcpu", "memory",
	"location", "locationType", "regionCode", "operatingSystem", "tenancy", "preInstalledSw",
	"capacitystatus", "marketoption", "licenseModel", "usagetype", "operation",
	"processorArchitecture", "storage", "currentGeneration",
	"physicalProcessor", "gpu", "gpuMemory", "networkPerformance",
}

// attribute computes one attribute without building the whole map, so that
// filtering every catalog type in every region stays cheap.
func (p pricingProduct) attribute(name string) (string, bool) {
	switch name {
	case "servicecode":
		return "AmazonEC2", true
	case "servicename":
		return "Amazon Elastic Compute Cloud", true
	case "instanceType":
		return p.it.Name, true
	case "instanceFamily":
		if f := instanceFamilies[p.it.Category]; f != "" {
			return f, true
		}
		return "General purpose", true
	case "vcpu":
		return strconv.Itoa(p.it.VCPU), true
	case "memory":
		return formatGiB(p.it.MemoryMiB), true
	case "location":
		l, _ := pricingLocation(p.region)
		return l, true
	case "locationType":
		return "AWS Region", true
	case "regionCode":
		return p.region, true
	case "operatingSystem":
		return "Linux", true
	case "tenancy":
		return p.tenancy(), true
	case "preInstalledSw":
		return "NA", true
	case "capacitystatus":
		return "Used", true
	case "marketoption":
		return "OnDemand", true
	case "licenseModel":
		return "No License required", true
	case "usagetype":
		_, prefix := pricingLocation(p.region)
		return prefix + "BoxUsage:" + p.it.Name, true
	case "operation":
		return "RunInstances", true
	case "processorArchitecture":
		if p.it.Architecture == "arm64" {
			return "64-bit (arm)", true
		}
		return "64-bit", true
	case "storage":
		if p.it.LocalNVMeGB > 0 {
			return fmt.Sprintf("%d GB NVMe SSD", p.it.LocalNVMeGB), true
		}
		return "EBS only", true
	case "currentGeneration":
		return "Yes", true
	case "physicalProcessor":
		v := map[string]string{"intel": "Intel Xeon Family", "amd": "AMD EPYC", "aws": "AWS Graviton Processor"}[p.it.CPUManufacturer]
		return v, v != ""
	case "gpu":
		return strconv.Itoa(p.it.GPUCount), p.it.GPUCount > 0
	case "gpuMemory":
		return formatGiB(p.it.GPUMemoryMiB * int64(p.it.GPUCount)), p.it.GPUCount > 0 && p.it.GPUMemoryMiB > 0
	case "networkPerformance":
		return strconv.FormatFloat(float64(p.it.NetworkBandwidthMbps)/1000, 'f', -1, 64) + " Gigabit", p.it.NetworkBandwidthMbps > 0
	}
	return "", false
}

func (p pricingProduct) attributes() map[string]string {
	a := make(map[string]string, len(pricingAttributeKeys))
	for _, k := range pricingAttributeKeys {
		if v, ok := p.attribute(k); ok {
			a[k] = v
		}
	}
	return a
}

// field looks up a filterable field: product attributes and the top-level
// product fields, matched case-insensitively.
func (p pricingProduct) field(name string) (string, bool) {
	switch strings.ToLower(name) {
	case "productfamily":
		return p.family(), true
	case "sku":
		return p.sku(), true
	}
	for _, k := range pricingAttributeKeys {
		if strings.EqualFold(k, name) {
			return p.attribute(k)
		}
	}
	return "", false
}

func (p pricingProduct) priceListJSON() (string, error) {
	sku := p.sku()
	termKey := sku + "." + pricingOnDemandTerm
	dimKey := termKey + "." + pricingRateCode
	type priceDimension struct {
		RateCode     string            `json:"rateCode"`
		Description  string            `json:"description"`
		BeginRange   string            `json:"beginRange"`
		EndRange     string            `json:"endRange"`
		Unit         string            `json:"unit"`
		PricePerUnit map[string]string `json:"pricePerUnit"`
		AppliesTo    []string          `json:"appliesTo"`
	}
	type term struct {
		PriceDimensions map[string]priceDimension `json:"priceDimensions"`
		SKU             string                    `json:"sku"`
		EffectiveDate   string                    `json:"effectiveDate"`
		OfferTermCode   string                    `json:"offerTermCode"`
		TermAttributes  map[string]string         `json:"termAttributes"`
	}
	doc := struct {
		Product struct {
			ProductFamily string            `json:"productFamily"`
			Attributes    map[string]string `json:"attributes"`
			SKU           string            `json:"sku"`
		} `json:"product"`
		ServiceCode     string                     `json:"serviceCode"`
		Terms           map[string]map[string]term `json:"terms"`
		Version         string                     `json:"version"`
		PublicationDate string                     `json:"publicationDate"`
	}{ServiceCode: "AmazonEC2", Version: pricingVersion, PublicationDate: pricingPublished}
	doc.Product.ProductFamily = p.family()
	doc.Product.Attributes = p.attributes()
	doc.Product.SKU = sku
	doc.Terms = map[string]map[string]term{"OnDemand": {termKey: {
		PriceDimensions: map[string]priceDimension{dimKey: {
			RateCode:     dimKey,
			Description:  fmt.Sprintf("$%s per On Demand Linux %s Instance Hour", strconv.FormatFloat(p.price, 'f', -1, 64), p.it.Name),
			BeginRange:   "0",
			EndRange:     "Inf",
			Unit:         "Hrs",
			PricePerUnit: map[string]string{"USD": strconv.FormatFloat(p.price, 'f', 10, 64)},
			AppliesTo:    []string{},
		}},
		SKU: sku, EffectiveDate: pricingPublished, OfferTermCode: pricingOnDemandTerm, TermAttributes: map[string]string{},
	}}}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("encoding price list item for %s in %s: %w", p.it.Name, p.region, err)
	}
	return string(b), nil
}
