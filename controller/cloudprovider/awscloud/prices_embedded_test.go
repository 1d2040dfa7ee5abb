package awscloud

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nodewright/nodewright/controller/providers/pricing"
)

type fallbackPrices struct{ f pricing.Fallback }

func (fallbackPrices) Prices(context.Context) (*pricing.Prices, error) { return nil, nil }
func (fallbackPrices) ReadAt() time.Time                               { return time.Time{} }
func (p fallbackPrices) Fallback() pricing.Fallback                    { return p.f }

// The node class's event names whose list prices stand in, and the
// endpoint the controller's role must reach.
func TestPricesEmbeddedSaysWhosePrices(t *testing.T) {
	for _, tc := range []struct {
		region string
		want   []string
	}{
		{"us-west-2", []string{"the embedded catalog's us-west-2 list prices", "endpoint us-east-1", "AccessDenied"}},
		{"eu-west-1", []string{"us-east-1's embedded list prices, standing in for eu-west-1", "endpoint eu-central-1"}},
	} {
		p := &CloudProvider{prices: fallbackPrices{pricing.Fallback{Episode: 3, Region: tc.region,
			PriceRegion: map[bool]string{true: tc.region, false: "us-east-1"}[tc.region == "us-west-2"], Reason: "AccessDenied"}}}
		episode, msg := p.PricesEmbedded()
		if episode != 3 {
			t.Errorf("%s: episode %d, want 3", tc.region, episode)
		}
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message %q lacks %q", tc.region, msg, w)
			}
		}
	}
	if episode, msg := (&CloudProvider{prices: fallbackPrices{}}).PricesEmbedded(); episode != 0 || msg != "" {
		t.Errorf("no fallback: %d %q", episode, msg)
	}
}
