package nodeagent

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/mail"
	"slices"
	"strconv"
	"strings"

	"github.com/google/shlex"
	"github.com/nodewright/nodewright/controller/catalog"
	toml "github.com/pelletier/go-toml/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// Bootstrap formats ParseUserData recognises.
const (
	FormatNodeadm      = "nodeadm"      // AL2023 NodeConfig, bare or in MIME multipart
	FormatBottlerocket = "bottlerocket" // Bottlerocket settings TOML
)

// nodeConfigMediaType marks the MIME part nodeadm reads its NodeConfig from.
const nodeConfigMediaType = "application/node.eks.aws"

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

func looksLikeMIME(doc []byte) bool {
	head := strings.ToLower(string(doc[:min(len(doc), 512)]))
	return strings.HasPrefix(head, "mime-version:") || strings.HasPrefix(head, "content-type:")
}

func parseMIME(doc []byte) (*Bootstrap, error) {
	// Header lines may end in LF alone; textproto accepts both. A document
	// whose headers do not end with a blank line is not MIME at all.
	msg, err := mail.ReadMessage(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("userData MIME headers: %w", err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("userData MIME Content-Type: %w", err)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		if mediaType == nodeConfigMediaType {
			body, err := io.ReadAll(msg.Body)
			if err != nil {
				return nil, fmt.Errorf("reading userData body: %w", err)
			}
			return parseNodeConfigs([][]byte{body})
		}
		return nil, fmt.Errorf("userData MIME type %q holds no NodeConfig", mediaType)
	}
	if params["boundary"] == "" {
		return nil, errors.New("userData MIME multipart has no boundary")
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var configs [][]byte
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("userData MIME part %d: %w", len(configs)+1, err)
		}
		pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil || pt != nodeConfigMediaType {
			// Shell scripts and cloud-config run before kubelet; they do not
			// change how it registers.
			continue
		}
		body, err := io.ReadAll(part)
		if err != nil {
			return nil, fmt.Errorf("reading NodeConfig part: %w", err)
		}
		configs = append(configs, body)
	}
	if len(configs) == 0 {
		return nil, fmt.Errorf("userData MIME multipart has no %s part", nodeConfigMediaType)
	}
	return parseNodeConfigs(configs)
}

// nodeConfig is the subset of nodeadm's NodeConfig kubelet registration depends on.
type nodeConfig struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Cluster struct {
			Name                 string `json:"name"`
			APIServerEndpoint    string `json:"apiServerEndpoint"`
			CertificateAuthority string `json:"certificateAuthority"`
			CIDR                 string `json:"cidr"`
		} `json:"cluster"`
		Kubelet struct {
			Config map[string]any `json:"config"`
			Flags  []string       `json:"flags"`
		} `json:"kubelet"`
	} `json:"spec"`
}

// parseNodeConfigs merges NodeConfig documents in order, as nodeadm does
// with several parts: later scalar values win, flags accumulate.
func parseNodeConfigs(docs [][]byte) (*Bootstrap, error) {
	b := &Bootstrap{Format: FormatNodeadm, Labels: map[string]string{}}
	for i, doc := range docs {
		var nc nodeConfig
		// Not strict: NodeConfig has many fields registration does not need.
		if err := yaml.Unmarshal(doc, &nc); err != nil {
			return nil, fmt.Errorf("NodeConfig document %d is not valid YAML: %w", i+1, err)
		}
		if nc.Kind != "NodeConfig" || !strings.HasPrefix(nc.APIVersion, "node.eks.aws/") {
			return nil, fmt.Errorf("document %d is %s %q, not a node.eks.aws NodeConfig", i+1, nc.APIVersion, nc.Kind)
		}
		c := nc.Spec.Cluster
		setIf(&b.ClusterName, c.Name)
		setIf(&b.APIServerEndpoint, c.APIServerEndpoint)
		setIf(&b.CertificateAuthority, c.CertificateAuthority)
		setIf(&b.CIDR, c.CIDR)
		if v, ok := nc.Spec.Kubelet.Config["maxPods"]; ok {
			n, err := wholeNumber(v)
			if err != nil {
				return nil, fmt.Errorf("kubelet config maxPods: %w", err)
			}
			b.MaxPods = n
		}
		if v, ok := nc.Spec.Kubelet.Config["podsPerCore"]; ok {
			n, err := wholeNumber(v)
			if err != nil {
				return nil, fmt.Errorf("kubelet config podsPerCore: %w", err)
			}
			b.PodsPerCore = n
		}
		for key, dst := range map[string]*map[string]string{
			"kubeReserved": &b.KubeReserved, "systemReserved": &b.SystemReserved, "evictionHard": &b.EvictionHard,
		} {
			if v, ok := nc.Spec.Kubelet.Config[key]; ok {
				if err := stringMap(dst, "kubelet config "+key, v); err != nil {
					return nil, err
				}
			}
		}
		if v, ok := nc.Spec.Kubelet.Config["registerWithTaints"]; ok {
			taints, err := configTaints(v)
			if err != nil {
				return nil, fmt.Errorf("kubelet config registerWithTaints: %w", err)
			}
			b.Taints = append(b.Taints, taints...)
		}
		if err := applyKubeletFlags(b, nc.Spec.Kubelet.Flags); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
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

func configTaints(v any) ([]corev1.Taint, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%v is not a list", v)
	}
	var out []corev1.Taint
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%v is not a taint object", item)
		}
		key, _ := m["key"].(string)
		value, _ := m["value"].(string)
		effect, _ := m["effect"].(string)
		t, err := makeTaint(key, value, effect)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// applyKubeletFlags reads the registration flags kubelet would be started
// with. nodeadm joins the NodeConfig's flags into one environment variable
// that systemd splits into words, unquoting each as a shell would, so
// `--node-labels="a=b,c=d"` (Karpenter writes it with Go's %q) reaches kubelet
// without its quotes. The same splitting is done here. Both --flag=value and
// "--flag value" spellings are accepted.
func applyKubeletFlags(b *Bootstrap, flags []string) error {
	words, err := shlex.Split(strings.Join(flags, " "))
	if err != nil {
		return fmt.Errorf("kubelet flags %q: %w", flags, err)
	}
	for i := 0; i < len(words); i++ {
		name, value, hasValue := strings.Cut(words[i], "=")
		if !hasValue && i+1 < len(words) && !strings.HasPrefix(words[i+1], "-") {
			i++
			value = words[i]
		}
		switch name {
		case "--node-labels":
			labels, err := ParseLabels(value)
			if err != nil {
				return fmt.Errorf("kubelet flag --node-labels: %w", err)
			}
			for k, v := range labels {
				b.Labels[k] = v
			}
		case "--register-with-taints":
			taints, err := ParseTaints(value)
			if err != nil {
				return fmt.Errorf("kubelet flag --register-with-taints: %w", err)
			}
			b.Taints = append(b.Taints, taints...)
		case "--max-pods":
			n, err := strconv.Atoi(value)
			if err != nil {
				return fmt.Errorf("kubelet flag --max-pods: %q is not a number", value)
			}
			b.MaxPods = n
		}
	}
	return nil
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

// parseBottlerocket reads the settings Bottlerocket's kubelet is configured
// from. Other settings sections are ignored.
func parseBottlerocket(doc []byte) (*Bootstrap, error) {
	var root map[string]any
	if err := toml.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("bottlerocket userData is not valid TOML: %w", err)
	}
	settings, _ := root["settings"].(map[string]any)
	k8s, ok := settings["kubernetes"].(map[string]any)
	if !ok {
		return nil, errors.New("bottlerocket userData has no [settings.kubernetes]")
	}
	b := &Bootstrap{Format: FormatBottlerocket, Labels: map[string]string{}}
	var err error
	str := func(key string) string {
		v, present := k8s[key]
		if !present {
			return ""
		}
		s, isString := v.(string)
		if !isString && err == nil {
			err = fmt.Errorf("settings.kubernetes.%s is %T, not a string", key, v)
		}
		return s
	}
	b.ClusterName = str("cluster-name")
	b.APIServerEndpoint = str("api-server")
	b.CertificateAuthority = str("cluster-certificate")
	b.CIDR = str("service-ipv4-cidr")
	if err != nil {
		return nil, err
	}
	if v, ok := k8s["max-pods"]; ok {
		if b.MaxPods, err = wholeNumber(v); err != nil {
			return nil, fmt.Errorf("settings.kubernetes.max-pods: %w", err)
		}
	}
	for key, dst := range map[string]*map[string]string{
		"kube-reserved": &b.KubeReserved, "system-reserved": &b.SystemReserved, "eviction-hard": &b.EvictionHard,
	} {
		if v, ok := k8s[key]; ok {
			if err := stringMap(dst, "settings.kubernetes."+key, v); err != nil {
				return nil, err
			}
		}
	}
	if v, ok := k8s["node-labels"]; ok {
		labels, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("settings.kubernetes.node-labels is not a table")
		}
		for k, lv := range labels {
			s, ok := lv.(string)
			if !ok {
				return nil, fmt.Errorf("node label %q is %T, not a string", k, lv)
			}
			if err := validateLabel(k, s); err != nil {
				return nil, err
			}
			b.Labels[k] = s
		}
	}
	if v, ok := k8s["node-taints"]; ok {
		taints, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("settings.kubernetes.node-taints is not a table")
		}
		// TOML tables are unordered; sort so registration is deterministic.
		for _, k := range slices.Sorted(maps.Keys(taints)) {
			tv := taints[k]
			var specs []string
			switch x := tv.(type) {
			case string:
				specs = []string{x}
			case []any:
				for _, e := range x {
					s, ok := e.(string)
					if !ok {
						return nil, fmt.Errorf("node taint %q holds %T, not a string", k, e)
					}
					specs = append(specs, s)
				}
			default:
				return nil, fmt.Errorf("node taint %q is %T, not a string or list", k, tv)
			}
			for _, spec := range specs {
				value, effect, ok := cutLast(spec, ":")
				if !ok {
					return nil, fmt.Errorf("node taint %q value %q has no effect", k, spec)
				}
				t, err := makeTaint(k, value, effect)
				if err != nil {
					return nil, err
				}
				b.Taints = append(b.Taints, t)
			}
		}
	}
	return b, nil
}
