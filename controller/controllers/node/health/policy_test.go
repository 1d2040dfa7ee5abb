package health_test

import (
	"testing"

	"github.com/nodewright/nodewright/controller/controllers/node/health"
)

func TestParsePolicies(t *testing.T) {
	got, err := health.ParsePolicies(health.DefaultPolicies)
	if err != nil || len(got) != 7 || got[1].String() != "Ready=Unknown:30m0s" {
		t.Fatalf("default policies: %v %v", got, err)
	}
	if got, err := health.ParsePolicies(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
	for _, bad := range []string{"Ready", "Ready=Maybe:30m", "Ready=False:soon", "Ready=False:-1m", "=False:1m"} {
		if _, err := health.ParsePolicies(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
