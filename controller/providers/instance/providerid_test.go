package instance

import (
	"testing"
)

func TestProviderID(t *testing.T) {
	if id, err := ParseProviderID(ProviderID("us-east-1a", "i-0abc")); err != nil || id != "i-0abc" {
		t.Errorf("round trip = %q, %v", id, err)
	}
	for _, bad := range []string{"", "aws:///us-east-1a", "gce:///x/i-1", "aws:///us-east-1a/vol-1"} {
		if _, err := ParseProviderID(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
