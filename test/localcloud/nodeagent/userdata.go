package nodeagent

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nodewright/nodewright/controller/catalog"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Bootstrap formats ParseUserData recognises.
const (
	FormatNodeadm      = "nodeadm"      // AL2023 NodeConfig, bare or in MIME multipart
	FormatBottlerocket = "bottlerocket" // Bottlerocket settings TOML
)

// Bootstrap is what a node's userData tells kubelet: which cluster to join
// and how to register.
type Bootstrap struct {
	Format               string
	ClusterName          string
	APIServerEndpoint    string
	CertificateAuthority string
	CIDR                 string
	// MaxPods is 0 when userData leaves it to the default.
	MaxPods int
	// PodsPerCore is 0 when userData sets no cap per vCPU.
	PodsPerCore int
	// KubeReserved, SystemReserved and EvictionHard are kubelet's
	// settings of those names, with the values as written.
	KubeReserved, SystemReserved map[string]string
	EvictionHard                 map[string]string
	Labels                       map[string]string
	Taints                       []corev1.Taint
}

// Kubelet is the bootstrap's kubelet settings as the catalog counts them in
// capacity and allocatable, so the node reports what the controller planned.
func (b *Bootstrap) Kubelet() catalog.Kubelet {
	return catalog.Kubelet{MaxPods: b.MaxPods, PodsPerCore: b.PodsPerCore,
		KubeReserved: mustQuantities(b.KubeReserved), SystemReserved: mustQuantities(b.SystemReserved), EvictionHard: b.EvictionHard}
}

// mustQuantities converts reservations ParseUserDataBytes has checked.
func mustQuantities(m map[string]string) corev1.ResourceList {
	if len(m) == 0 {
		return nil
	}
	out := corev1.ResourceList{}
	for k, v := range m {
		out[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	return out
}

// stringMap reads a kubelet map setting (a YAML mapping or TOML table of
// strings) into dst, later keys replacing earlier ones as nodeadm merges
// documents.
func stringMap(dst *map[string]string, what string, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s is %T, not a map", what, v)
	}
	if *dst == nil {
		*dst = map[string]string{}
	}
	for k, e := range m {
		s, ok := e.(string)
		if !ok {
			return fmt.Errorf("%s[%s] is %T, not a string", what, k, e)
		}
		(*dst)[k] = s
	}
	return nil
}

// checkKubelet refuses what kubelet would refuse to start with: a
// reservation that is not a quantity, an eviction threshold that is neither
// a quantity nor a percentage.
func (b *Bootstrap) checkKubelet() error {
	for what, m := range map[string]map[string]string{"kubeReserved": b.KubeReserved, "systemReserved": b.SystemReserved} {
		for k, v := range m {
			if _, err := resource.ParseQuantity(v); err != nil {
				return fmt.Errorf("%s userData %s[%s] %q is not a quantity", b.Format, what, k, v)
			}
		}
	}
	for k, v := range b.EvictionHard {
		if pct, ok := strings.CutSuffix(v, "%"); ok {
			if p, err := strconv.ParseFloat(pct, 64); err != nil || p < 0 || p > 100 {
				return fmt.Errorf("%s userData evictionHard[%s] %q is not a percentage", b.Format, k, v)
			}
		} else if _, err := resource.ParseQuantity(v); err != nil {
			return fmt.Errorf("%s userData evictionHard[%s] %q is not a quantity", b.Format, k, v)
		}
	}
	if b.PodsPerCore < 0 {
		return fmt.Errorf("%s userData has negative podsPerCore %d", b.Format, b.PodsPerCore)
	}
	return nil
}

// ParseUserData decodes an instance's base64 userData and reads its
// bootstrap configuration. An error means kubelet would never start, so the
// instance never joins.
func ParseUserData(b64 string) (*Bootstrap, error) {
	if strings.TrimSpace(b64) == "" {
		return nil, errors.New("userData is empty")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, fmt.Errorf("userData is not valid base64: %w", err)
	}
	return ParseUserDataBytes(raw)
}

// ParseUserDataBytes reads decoded userData. It tells the formats apart the
// way the images do: nodeadm looks for MIME or a NodeConfig document,
// Bottlerocket for TOML settings.
func ParseUserDataBytes(raw []byte) (*Bootstrap, error) {
	var (
		b   *Bootstrap
		err error
	)
	trimmed := bytes.TrimSpace(raw)
	switch {
	case len(trimmed) == 0:
		return nil, errors.New("userData is empty")
	case looksLikeMIME(trimmed):
		b, err = parseMIME(trimmed)
	case bytes.HasPrefix(trimmed, []byte("[")) || bytes.Contains(trimmed, []byte("[settings")):
		b, err = parseBottlerocket(trimmed)
	case bytes.HasPrefix(trimmed, []byte("#!")):
		// AL2's bootstrap.sh script: AL2023 images ignore it, so kubelet never starts.
		return nil, errors.New("userData is a bare shell script, with no NodeConfig for nodeadm")
	default:
		b, err = parseNodeConfigs([][]byte{trimmed})
		if err != nil {
			err = fmt.Errorf("userData is neither MIME multipart, Bottlerocket TOML nor a NodeConfig: %w", err)
		}
	}
	if err != nil {
		return nil, err
	}
	if b.ClusterName == "" {
		return nil, fmt.Errorf("%s userData names no cluster", b.Format)
	}
	if b.APIServerEndpoint == "" {
		return nil, fmt.Errorf("%s userData has no API server endpoint", b.Format)
	}
	if b.MaxPods < 0 {
		return nil, fmt.Errorf("%s userData has negative maxPods %d", b.Format, b.MaxPods)
	}
	if err := b.checkKubelet(); err != nil {
		return nil, err
	}
	return b, nil
}

func wholeNumber(v any) (int, error) {
	switch n := v.(type) {
	case float64:
		if n != float64(int(n)) {
			return 0, fmt.Errorf("%v is not a whole number", n)
		}
		return int(n), nil
	case int64:
		return int(n), nil
	case int:
		return n, nil
	case string:
		i, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", n)
		}
		return i, nil
	default:
		return 0, fmt.Errorf("%v (%T) is not a number", v, v)
	}
}

// ParseLabels reads kubelet's --node-labels value: k=v pairs separated by
// commas. Kubelet refuses to start on an invalid label, so this errs.
func ParseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("label %q is not key=value", pair)
		}
		if err := validateLabel(k, v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

func validateLabel(k, v string) error {
	if errs := validation.IsQualifiedName(k); len(errs) > 0 {
		return fmt.Errorf("label key %q: %s", k, strings.Join(errs, "; "))
	}
	if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
		return fmt.Errorf("label %q value %q: %s", k, v, strings.Join(errs, "; "))
	}
	return nil
}

// ParseTaints reads kubelet's --register-with-taints value: comma-separated
// key=value:Effect or key:Effect.
func ParseTaints(s string) ([]corev1.Taint, error) {
	var out []corev1.Taint
	for _, spec := range strings.Split(s, ",") {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		kv, effect, ok := cutLast(spec, ":")
		if !ok {
			return nil, fmt.Errorf("taint %q has no effect", spec)
		}
		k, v, _ := strings.Cut(kv, "=")
		t, err := makeTaint(k, v, effect)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func makeTaint(key, value, effect string) (corev1.Taint, error) {
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		return corev1.Taint{}, fmt.Errorf("taint key %q: %s", key, strings.Join(errs, "; "))
	}
	if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
		return corev1.Taint{}, fmt.Errorf("taint %q value %q: %s", key, value, strings.Join(errs, "; "))
	}
	switch e := corev1.TaintEffect(effect); e {
	case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		return corev1.Taint{Key: key, Value: value, Effect: e}, nil
	default:
		return corev1.Taint{}, fmt.Errorf("taint %q has unknown effect %q", key, effect)
	}
}
