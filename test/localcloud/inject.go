package localcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// Fault is one kind of injected failure, as `localcloud inject` lists them.
type Fault struct {
	Name  string
	Route string // the AWS daemon's admin route; empty for a fault on a Kubernetes object
	Help  string
}

// Faults lists every fault the local cloud can inject.
var Faults = []Fault{
	{"spot-interruption", "faults/spot-interruption", "EC2 Spot Instance Interruption Warning now; the instance terminates after the lead time (--instance, --lead)"},
	{"rebalance", "faults/rebalance", "EC2 Instance Rebalance Recommendation for an instance (--instance)"},
	{"scheduled-change", "faults/scheduled-change", "AWS Health scheduledChange event for an instance (--instance, --start-in)"},
	{"capacity-reservation-interruption", "faults/capacity-reservation-interruption", "EC2 Capacity Reservation Instance Interruption Warning (--instance)"},
	{"instance-loss", "faults/instance-loss", "the instance terminates at once, with no warning (--instance)"},
	{"ice", "faults/capacity", "mark a (type, zone, capacity type) pool out of capacity, or back with --clear"},
	{"api-errors", "faults/api-errors", "return an error (default: the service's throttling code) at --rate of calls to --target service:Action"},
	{"never-join", "faults/never-join", "the next --count launched instances boot but never join the cluster"},
	{"not-ready", "", "the Node's kubelet stops reporting: kwok turns its Ready condition Unknown (--node; --clear heals it)"},
	{"clear", "faults/clear", "remove every API-error, capacity and never-join fault"},
}

// FaultByName finds a fault.
func FaultByName(name string) (Fault, bool) {
	for _, f := range Faults {
		if f.Name == name {
			return f, true
		}
	}
	return Fault{}, false
}

// Inject posts a fault to the AWS daemon of the cloud whose state is in dir.
func Inject(ctx context.Context, dir, route string, body any) ([]byte, error) {
	st, err := loadState(dir)
	if err != nil {
		return nil, err
	}
	port, ok := st.Ports[AWS]
	if !ok {
		return nil, fmt.Errorf("localcloud: no AWS endpoint recorded in %s: is the local cloud up?", dir)
	}
	return adminCall(ctx, fmt.Sprintf("http://127.0.0.1:%d", port), http.MethodPost, route, body)
}

// Inject posts a fault to this cloud's AWS daemon.
func (c *Cloud) Inject(ctx context.Context, route string, body any) ([]byte, error) {
	return adminCall(ctx, c.AWSEndpoint(), http.MethodPost, route, body)
}

// InjectSpotInterruption sends a spot interruption warning for an instance,
// which terminates after lead.
func (c *Cloud) InjectSpotInterruption(ctx context.Context, instanceID string, lead time.Duration) error {
	_, err := c.Inject(ctx, "faults/spot-interruption", map[string]any{"instanceId": instanceID, "leadSeconds": int(lead.Seconds())})
	return err
}

// InjectCapacity marks a pool out of capacity (available=false) or back in.
func (c *Cloud) InjectCapacity(ctx context.Context, instanceType, zone, capacityType string, available bool) error {
	_, err := c.Inject(ctx, "faults/capacity", map[string]any{
		"instanceType": instanceType, "zone": zone, "capacityType": capacityType, "available": available})
	return err
}

// Calls returns how many authenticated requests the AWS endpoint has
// answered per "service:Action" (e.g. "ec2:CreateFleet") since it started
// or since ResetCalls.
func (c *Cloud) Calls(ctx context.Context) (Calls, error) {
	out, err := adminCall(ctx, c.AWSEndpoint(), http.MethodGet, "calls", nil)
	if err != nil {
		return nil, err
	}
	calls := Calls{}
	if err := json.Unmarshal(out, &calls); err != nil {
		return nil, fmt.Errorf("reading the AWS endpoint's call counts: %w", err)
	}
	return calls, nil
}

// Calls counts AWS requests per "service:Action".
type Calls map[string]int

// String lists the counts by action, sorted: "ec2:CreateFleet=2 sqs:ReceiveMessage=4".
func (c Calls) String() string {
	parts := make([]string, 0, len(c))
	for _, k := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, c[k]))
	}
	return strings.Join(parts, " ")
}

// ResetCalls zeroes the AWS endpoint's call counts.
func (c *Cloud) ResetCalls(ctx context.Context) error {
	_, err := adminCall(ctx, c.AWSEndpoint(), http.MethodPost, "calls/reset", nil)
	return err
}

func adminCall(ctx context.Context, endpoint, method, route string, body any) ([]byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint+"/_localcloud/"+route, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling the local AWS endpoint: %w", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s", route, resp.Status, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// FaultHelp is the `localcloud inject --help` text.
func FaultHelp() string {
	var b strings.Builder
	fs := append([]Fault(nil), Faults...)
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	for _, f := range fs {
		fmt.Fprintf(&b, "  %-34s %s\n", f.Name, f.Help)
	}
	return b.String()
}
