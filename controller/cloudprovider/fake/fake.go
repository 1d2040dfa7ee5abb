// Package fake is an in-memory CloudProvider for controller tests: it
// records calls, can fail the next call once, and launches "instances"
// instantly.
package fake

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/utils/resources"
)

var _ cloudprovider.CloudProvider = (*CloudProvider)(nil)

// CloudProvider is the fake.
type CloudProvider struct {
	// mu guards every field below.
	mu sync.Mutex
	// Types are what InstanceTypes returns for every NodePool.
	Types []*scheduling.InstanceType
	// VolumeCosts are what NodeVolumeCost returns, by NodePool name (0 for
	// pools not listed).
	VolumeCosts map[string]float64
	// Instances by providerID.
	Instances map[string]*v1.NodeClaim
	// Calls counts calls by method name.
	Calls map[string]int
	// NextError fails the next call of the named method once.
	NextError map[string]error
	// Unavailable records MarkUnavailable calls: "type/zone/capacity" -> ttl.
	Unavailable map[string]time.Duration
	// poolErrors fail InstanceTypes for the named NodePools on every call
	// (a node class that stays broken), unlike the one-shot NextError.
	poolErrors map[string]error
}

// seq numbers instances across every fake in the process, so that a Node
// one test leaves behind can never carry the providerID of another test's
// instance.
var seq atomic.Int64

// New returns a fake offering types.
func New(types []*scheduling.InstanceType) *CloudProvider {
	c := &CloudProvider{Types: types}
	c.Reset()
	return c
}

// Reset forgets instances, calls and injected errors.
func (c *CloudProvider) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Instances, c.Calls, c.NextError, c.Unavailable = map[string]*v1.NodeClaim{}, map[string]int{}, map[string]error{}, map[string]time.Duration{}
	c.poolErrors = map[string]error{}
}

// FailInstanceTypes makes InstanceTypes fail with err for the named
// NodePool until Reset, or until called again with a nil err.
func (c *CloudProvider) FailInstanceTypes(pool string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		delete(c.poolErrors, pool)
		return
	}
	c.poolErrors[pool] = err
}

func (c *CloudProvider) call(name string) error {
	c.Calls[name]++
	if err, ok := c.NextError[name]; ok {
		delete(c.NextError, name)
		return err
	}
	return nil
}

// Create implements CloudProvider: the cheapest allowed offering, at once.
func (c *CloudProvider) Create(_ context.Context, nc *v1.NodeClaim) (*v1.NodeClaim, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.call("Create"); err != nil {
		return nil, err
	}
	for _, existing := range c.Instances {
		if existing.UID == nc.UID && nc.UID != "" {
			return existing.DeepCopy(), nil
		}
	}
	reqs, err := scheduling.NewRequirements(requirements(nc)...)
	if err != nil {
		return nil, err
	}
	var best *scheduling.InstanceType
	var bestOff scheduling.Offering
	for _, it := range c.Types {
		if !reqs.Allows(it.Labels) || !resources.Fits(nc.Spec.Resources.Requests, it.Allocatable) {
			continue
		}
		for _, off := range it.Offerings {
			if !off.Available || !reqs.AllowsValue(corev1.LabelTopologyZone, off.Zone) || !reqs.AllowsValue(v1.CapacityTypeLabelKey, off.CapacityType) {
				continue
			}
			if best == nil || off.Price < bestOff.Price {
				best, bestOff = it, off
			}
		}
	}
	if best == nil {
		return nil, &cloudprovider.InsufficientCapacityError{Err: fmt.Errorf("no offering fits nodeclaim %s", nc.Name)}
	}
	out := nc.DeepCopy()
	out.Status.ProviderID = fmt.Sprintf("fake:///%s/i-%08d", bestOff.Zone, seq.Add(1))
	out.Status.Capacity = best.Allocatable.DeepCopy()
	out.Status.Allocatable = best.Allocatable.DeepCopy()
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	for k, v := range best.Labels {
		out.Labels[k] = v
	}
	out.Labels[corev1.LabelTopologyZone] = bestOff.Zone
	out.Labels[v1.CapacityTypeLabelKey] = bestOff.CapacityType
	c.Instances[out.Status.ProviderID] = out
	return out.DeepCopy(), nil
}

func requirements(nc *v1.NodeClaim) []corev1.NodeSelectorRequirement {
	var out []corev1.NodeSelectorRequirement
	for _, r := range nc.Spec.Requirements {
		out = append(out, corev1.NodeSelectorRequirement{Key: r.Key, Operator: r.Operator, Values: r.Values})
	}
	return out
}

// Get implements CloudProvider.
func (c *CloudProvider) Get(_ context.Context, providerID string) (*v1.NodeClaim, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.call("Get"); err != nil {
		return nil, err
	}
	nc, ok := c.Instances[providerID]
	if !ok {
		return nil, cloudprovider.NewNodeClaimNotFoundError(fmt.Errorf("instance %s", providerID))
	}
	return nc.DeepCopy(), nil
}

// List implements CloudProvider, in providerID order.
func (c *CloudProvider) List(context.Context) ([]*v1.NodeClaim, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.call("List"); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(c.Instances))
	for id := range c.Instances {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]*v1.NodeClaim, 0, len(ids))
	for _, id := range ids {
		out = append(out, c.Instances[id].DeepCopy())
	}
	return out, nil
}

// Delete implements CloudProvider.
func (c *CloudProvider) Delete(_ context.Context, nc *v1.NodeClaim) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.call("Delete"); err != nil {
		return err
	}
	if _, ok := c.Instances[nc.Status.ProviderID]; !ok {
		return cloudprovider.NewNodeClaimNotFoundError(fmt.Errorf("instance %s", nc.Status.ProviderID))
	}
	delete(c.Instances, nc.Status.ProviderID)
	return nil
}

// InstanceTypes implements CloudProvider.
func (c *CloudProvider) InstanceTypes(_ context.Context, np *v1.NodePool) ([]*scheduling.InstanceType, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.call("InstanceTypes"); err != nil {
		return nil, err
	}
	if err := c.poolErrors[np.Name]; err != nil {
		return nil, err
	}
	return c.Types, nil
}

// NodeVolumeCost implements CloudProvider.
func (c *CloudProvider) NodeVolumeCost(_ context.Context, np *v1.NodePool) (float64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.call("NodeVolumeCost"); err != nil {
		return 0, err
	}
	return c.VolumeCosts[np.Name], nil
}

// SetVolumeCost makes NodeVolumeCost return usdPerHour for the pool.
func (c *CloudProvider) SetVolumeCost(pool string, usdPerHour float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.VolumeCosts == nil {
		c.VolumeCosts = map[string]float64{}
	}
	c.VolumeCosts[pool] = usdPerHour
}

// MarkUnavailable implements CloudProvider: the offering turns unavailable
// in Types (the fake has no clock; ttl is recorded in Unavailable).
func (c *CloudProvider) MarkUnavailable(instanceType, zone, capacityType string, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Calls["MarkUnavailable"]++
	if c.Unavailable == nil {
		c.Unavailable = map[string]time.Duration{}
	}
	c.Unavailable[instanceType+"/"+zone+"/"+capacityType] = ttl
	for _, it := range c.Types {
		if it.Name != instanceType {
			continue
		}
		for i := range it.Offerings {
			if it.Offerings[i].Zone == zone && it.Offerings[i].CapacityType == capacityType {
				it.Offerings[i].Available = false
			}
		}
	}
}

// Name implements CloudProvider.
func (c *CloudProvider) Name() string { return "fake" }
