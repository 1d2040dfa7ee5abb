package nodeagent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strconv"
	"strings"

	"github.com/google/shlex"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// nodeConfigMediaType marks the MIME part nodeadm reads its NodeConfig from.
const nodeConfigMediaType = "application/node.eks.aws"

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
