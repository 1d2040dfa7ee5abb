package index

import "strings"

// NodeClaimInstanceID indexes NodeClaims by the EC2 instance id at the end
// of status.providerID (aws:///<zone>/i-...), which interruption events name.
const NodeClaimInstanceID = "status.instanceID"

// InstanceID is the last path element of a providerID, or "".
func InstanceID(providerID string) string {
	i := strings.LastIndex(providerID, "/")
	if providerID == "" || i == len(providerID)-1 {
		return ""
	}
	return providerID[i+1:]
}
