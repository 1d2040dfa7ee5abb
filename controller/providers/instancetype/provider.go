// Package instancetype says which instance types a node class can launch:
// EC2's catalog of types and the zones each is offered in (I/O, cached for
// a TTL), turned into what the scheduler sees, each type's labels,
// allocatable and burst baseline, and one offering per zone and capacity
// type with its price and whether it has capacity.
package instancetype

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"k8s.io/utils/clock"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/providers/cache"
	"github.com/nodewright/nodewright/controller/providers/nodeclass"
	"github.com/nodewright/nodewright/controller/providers/pricing"
)

// Provider lists the instance types of a node class.
type Provider interface {
	// List returns the types the node class can launch: offered only in
	// zones where it has a subnet, only those an image of its can run,
	// with prices, and unavailable where a pool ran out of capacity.
	List(ctx context.Context, nc *v1.EC2NodeClass) ([]*scheduling.InstanceType, error)
	// Get is what EC2 says about one type, else what the embedded catalog
	// does; false when neither knows it.
	Get(ctx context.Context, name string) (catalog.InstanceType, bool)
}

// Options say which region's types are read and how long they are kept.
type Options struct {
	Region string
	Clock  clock.Clock
	// TTL is how long discovered types are reused before EC2 is asked again.
	TTL time.Duration
}

// DefaultProvider is the Provider on EC2.
type DefaultProvider struct {
	opts        Options
	ec2         EC2API
	prices      pricing.Provider
	unavailable *cache.UnavailableOfferings
	types       cache.Value[*typeCatalog]
	// mu guards listed: each node class's last List, by name.
	mu     sync.Mutex
	listed map[string]listing
}

// listing is one List and what it was built from. Building it converts the
// whole catalog (about 900 types, each checked against the class's images);
// in a 2 000-pod run the launches, the pool counter and every batch asked
// for it often enough to take 40% of the controller's CPU. It is rebuilt
// when the catalog, the prices, the unavailable pools or the class's
// zones, images or kubelet change.
type listing struct {
	catalog     *typeCatalog
	prices      *pricing.Prices
	unavailable uint64
	class       string
	types       []*scheduling.InstanceType
}

var _ Provider = (*DefaultProvider)(nil)

// NewDefaultProvider reads types with the client given, prices them with
// prices and marks the pools unavailable says are out of capacity.
func NewDefaultProvider(opts Options, e EC2API, prices pricing.Provider, unavailable *cache.UnavailableOfferings) *DefaultProvider {
	return &DefaultProvider{opts: opts, ec2: e, prices: prices, unavailable: unavailable}
}

// List implements Provider.
func (p *DefaultProvider) List(ctx context.Context, nc *v1.EC2NodeClass) ([]*scheduling.InstanceType, error) {
	cat, err := p.catalogTypes(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := p.prices.Prices(ctx)
	if err != nil {
		return nil, err
	}
	// Read before building, so a pool marked meanwhile makes the next
	// List rebuild.
	unavailable := p.unavailable.Seq()
	class, err := classKey(nc)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	l, ok := p.listed[nc.Name]
	p.mu.Unlock()
	if ok && l.catalog == cat && l.prices == pr && l.unavailable == unavailable && l.class == class {
		// Callers may filter or sort the slice; the types themselves are
		// read-only.
		return slices.Clone(l.types), nil
	}
	zoneSet := map[string]bool{}
	for _, s := range nc.Status.Subnets {
		zoneSet[s.Zone] = true
	}
	var zones []Zone
	for _, z := range slices.Sorted(maps.Keys(zoneSet)) {
		offered := cat.offered[z]
		zones = append(zones, Zone{Name: z, Offers: func(t string) bool { return offered[t] }})
	}
	kubelet := Kubelet(nc)
	var out []*scheduling.InstanceType
	for _, it := range cat.types {
		st := InstanceType(it, p.opts.Region, zones, pr, kubelet, p.unavailable.Unavailable)
		// A type no image of the class can run is not offered: a GPU type
		// needs an image with its driver.
		if len(nc.Status.AMIs) > 0 && !nodeclass.Launchable(nc.Status.AMIs, st.Labels) {
			continue
		}
		if len(st.Offerings) > 0 {
			out = append(out, st)
		}
	}
	p.mu.Lock()
	if p.listed == nil {
		p.listed = map[string]listing{}
	}
	p.listed[nc.Name] = listing{catalog: cat, prices: pr, unavailable: unavailable, class: class, types: out}
	p.mu.Unlock()
	return slices.Clone(out), nil
}

// classKey is what List reads of a node class: its subnets' zones, its
// images and its kubelet settings.
func classKey(nc *v1.EC2NodeClass) (string, error) {
	b, err := json.Marshal(struct {
		Subnets []v1.Subnet
		AMIs    []v1.AMI
		Kubelet catalog.Kubelet
	}{nc.Status.Subnets, nc.Status.AMIs, Kubelet(nc)})
	if err != nil {
		return "", fmt.Errorf("keying the instance types of ec2nodeclass %s: %w", nc.Name, err)
	}
	return string(b), nil
}

// Get implements Provider.
func (p *DefaultProvider) Get(ctx context.Context, name string) (catalog.InstanceType, bool) {
	cat, err := p.catalogTypes(ctx)
	if err == nil {
		for _, it := range cat.types {
			if it.Name == name {
				return it, true
			}
		}
	}
	types, err := catalog.InstanceTypes()
	if err == nil {
		for _, it := range types {
			if it.Name == name {
				return it, true
			}
		}
	}
	return catalog.InstanceType{}, false
}
