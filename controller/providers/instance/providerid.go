package instance

import (
	"fmt"
	"strings"
)

// ProviderID is the Kubernetes provider id of an instance.
func ProviderID(zone, instanceID string) string { return "aws:///" + zone + "/" + instanceID }

// ParseProviderID returns the instance id of aws:///<zone>/<id>.
func ParseProviderID(providerID string) (string, error) {
	rest, ok := strings.CutPrefix(providerID, "aws:///")
	if !ok {
		return "", fmt.Errorf("provider id %q is not aws:///<zone>/<instance-id>", providerID)
	}
	_, id, ok := strings.Cut(rest, "/")
	if !ok || !strings.HasPrefix(id, "i-") {
		return "", fmt.Errorf("provider id %q is not aws:///<zone>/<instance-id>", providerID)
	}
	return id, nil
}
