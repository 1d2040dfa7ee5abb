package health

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Policy says a Node is unhealthy once its condition Type has had Status
// for Toleration, as Karpenter's cloudprovider.RepairPolicy.
type Policy struct {
	Type       corev1.NodeConditionType
	Status     corev1.ConditionStatus
	Toleration time.Duration
}

func (p Policy) String() string {
	return fmt.Sprintf("%s=%s:%s", p.Type, p.Status, p.Toleration)
}

// DefaultPolicies is the --repair-policies default: the kubelet's Ready
// condition and the EKS node monitoring agent's conditions, with the
// tolerations karpenter-provider-aws's RepairPolicies gives them.
const DefaultPolicies = "Ready=False:30m,Ready=Unknown:30m,AcceleratedHardwareReady=False:10m,StorageReady=False:30m," +
	"NetworkingReady=False:30m,KernelReady=False:30m,ContainerRuntimeReady=False:30m"

// ParsePolicies reads a comma-separated list of Type=Status:toleration,
// e.g. "Ready=False:30m,Ready=Unknown:30m". Empty means no policies:
// repair is off.
func ParsePolicies(s string) ([]Policy, error) {
	var out []Policy
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		cond, tol, ok := strings.Cut(item, ":")
		typ, status, ok2 := strings.Cut(cond, "=")
		if !ok || !ok2 || typ == "" {
			return nil, fmt.Errorf("repair policy %q: want ConditionType=Status:toleration, e.g. Ready=Unknown:30m", item)
		}
		st := corev1.ConditionStatus(status)
		if st != corev1.ConditionTrue && st != corev1.ConditionFalse && st != corev1.ConditionUnknown {
			return nil, fmt.Errorf("repair policy %q: status %q must be True, False or Unknown", item, status)
		}
		d, err := time.ParseDuration(tol)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("repair policy %q: toleration %q must be a positive duration such as 30m", item, tol)
		}
		out = append(out, Policy{Type: corev1.NodeConditionType(typ), Status: st, Toleration: d})
	}
	return out, nil
}
