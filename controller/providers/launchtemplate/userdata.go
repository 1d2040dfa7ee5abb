package launchtemplate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"slices"
	"sort"
	"strconv"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/providers/nodeclass"
)

// bootstrap is what a node needs to join the cluster and register as its
// NodeClaim asked.
type bootstrap struct {
	ClusterName, Endpoint, CABundle, CIDR string
	// Kubelet is the node class's kubelet settings, nil when it has none.
	Kubelet *v1.KubeletConfiguration
	Labels  map[string]string
	Taints  []corev1.Taint
	// UserData is the node class's own userData, merged in.
	UserData string
}

// offeringLabels vary with the offering a fleet picks, so they can't be
// baked into a launch template shared by every offering; the node learns
// them from its own metadata.
var offeringLabels = map[string]bool{
	corev1.LabelInstanceTypeStable: true, corev1.LabelTopologyZone: true, v1.CapacityTypeLabelKey: true,
	corev1.LabelHostname: true, v1.NodeRegisteredLabelKey: true, v1.NodeInitializedLabelKey: true,
}

// kubeletMaySet reports whether kubelet accepts the label in --node-labels:
// it refuses keys in the kubernetes.io and k8s.io namespaces except its own
// and a few well-known ones, and would then never start.
func kubeletMaySet(key string) bool {
	prefix, _, ok := strings.Cut(key, "/")
	if !ok {
		return true
	}
	if prefix != "kubernetes.io" && prefix != "k8s.io" && !strings.HasSuffix(prefix, ".kubernetes.io") && !strings.HasSuffix(prefix, ".k8s.io") {
		return true
	}
	switch prefix {
	case "kubelet.kubernetes.io", "node.kubernetes.io":
		return true
	}
	switch key {
	case corev1.LabelArchStable, corev1.LabelOSStable, corev1.LabelTopologyRegion, corev1.LabelTopologyZone,
		corev1.LabelInstanceTypeStable, corev1.LabelHostname:
		return true
	}
	return false
}

// UserData implements Provider.
func (p *DefaultProvider) UserData(nc *v1.NodeClaim, nodeClass *v1.EC2NodeClass) (string, error) {
	return p.bootstrapFor(nc, nodeClass).userData(nodeclass.AMIFamily(nodeClass))
}

// bootstrapFor gathers the registration settings of the NodeClaim: its
// labels (except those that depend on the offering the fleet picks) and its
// taints, startup taints and the unregistered taint.
func (p *DefaultProvider) bootstrapFor(nc *v1.NodeClaim, nodeClass *v1.EC2NodeClass) bootstrap {
	b := bootstrap{ClusterName: p.opts.ClusterName, Endpoint: p.opts.ClusterEndpoint, CABundle: p.opts.ClusterCABundle,
		CIDR: p.opts.ClusterCIDR, Labels: map[string]string{}}
	if nodeClass.Spec.UserData != nil {
		b.UserData = *nodeClass.Spec.UserData
	}
	b.Kubelet = nodeClass.Spec.Kubelet
	for k, v := range nc.Labels {
		if !offeringLabels[k] && kubeletMaySet(k) {
			b.Labels[k] = v
		}
	}
	b.Taints = append(b.Taints, nc.Spec.Taints...)
	b.Taints = append(b.Taints, nc.Spec.StartupTaints...)
	hasUnregistered := false
	for _, t := range b.Taints {
		hasUnregistered = hasUnregistered || (t.Key == v1.UnregisteredTaintKey && t.Effect == corev1.TaintEffectNoExecute)
	}
	if !hasUnregistered {
		b.Taints = append(b.Taints, v1.UnregisteredNoExecuteTaint)
	}
	return b
}

// userData renders the bootstrap for the AMI family.
func (b bootstrap) userData(family string) (string, error) {
	switch family {
	case v1.AMIFamilyBottlerocket:
		return b.bottlerocket()
	case v1.AMIFamilyCustom:
		// A custom image bootstraps itself from the user's userData alone.
		return base64.StdEncoding.EncodeToString([]byte(b.UserData)), nil
	default:
		return b.al2023()
	}
}

func labelString(labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}

func taintString(t corev1.Taint) string {
	if t.Value == "" {
		return t.Key + ":" + string(t.Effect)
	}
	return t.Key + "=" + t.Value + ":" + string(t.Effect)
}

const mimeBoundary = "//nodewright//"

// al2023 is a MIME multi-part document: nodewright's NodeConfig first, then
// the node class's userData parts, so that a user's NodeConfig may override
// kubelet settings the way nodeadm merges documents.
func (b bootstrap) al2023() (string, error) {
	var cfg struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			Cluster struct {
				Name                 string `json:"name"`
				APIServerEndpoint    string `json:"apiServerEndpoint"`
				CertificateAuthority string `json:"certificateAuthority,omitempty"`
				CIDR                 string `json:"cidr"`
			} `json:"cluster"`
			Kubelet struct {
				Config map[string]any `json:"config,omitempty"`
				Flags  []string       `json:"flags,omitempty"`
			} `json:"kubelet"`
		} `json:"spec"`
	}
	cfg.APIVersion, cfg.Kind = "node.eks.aws/v1alpha1", "NodeConfig"
	c := &cfg.Spec.Cluster
	c.Name, c.APIServerEndpoint, c.CertificateAuthority, c.CIDR = b.ClusterName, b.Endpoint, b.CABundle, b.CIDR
	k := &cfg.Spec.Kubelet
	config, err := kubeletConfig(b.Kubelet)
	if err != nil {
		return "", err
	}
	k.Config = config
	if len(b.Labels) > 0 {
		k.Flags = append(k.Flags, "--node-labels="+labelString(b.Labels))
	}
	if len(b.Taints) > 0 {
		specs := make([]string, 0, len(b.Taints))
		for _, t := range b.Taints {
			specs = append(specs, taintString(t))
		}
		k.Flags = append(k.Flags, "--register-with-taints="+strings.Join(specs, ","))
	}
	doc, err := yaml.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encoding NodeConfig: %w", err)
	}
	parts := []mimePart{{contentType: "application/node.eks.aws", body: doc}}
	extra, err := userParts(b.UserData)
	if err != nil {
		return "", err
	}
	parts = append(parts, extra...)

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=%q\n\n", mimeBoundary)
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(mimeBoundary); err != nil {
		return "", err
	}
	for _, p := range parts {
		pw, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {p.contentType}})
		if err != nil {
			return "", err
		}
		if _, err := pw.Write(p.body); err != nil {
			return "", err
		}
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

type mimePart struct {
	contentType string
	body        []byte
}

// userParts splits the node class's userData into MIME parts: a MIME
// document's own parts, else the whole text as one part typed by its look.
func userParts(ud string) ([]mimePart, error) {
	if strings.TrimSpace(ud) == "" {
		return nil, nil
	}
	head := strings.ToLower(strings.TrimSpace(ud))
	if !strings.HasPrefix(head, "mime-version:") && !strings.HasPrefix(head, "content-type:") {
		ct := "text/x-shellscript; charset=\"us-ascii\""
		switch {
		case strings.Contains(ud, "kind: NodeConfig"):
			ct = "application/node.eks.aws"
		case strings.HasPrefix(head, "#cloud-config"):
			ct = "text/cloud-config; charset=\"us-ascii\""
		}
		return []mimePart{{contentType: ct, body: []byte(ud)}}, nil
	}
	msg, err := mail.ReadMessage(strings.NewReader(ud))
	if err != nil {
		return nil, fmt.Errorf("node class userData MIME headers: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("node class userData Content-Type: %w", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		body, err := io.ReadAll(msg.Body)
		if err != nil {
			return nil, err
		}
		return []mimePart{{contentType: msg.Header.Get("Content-Type"), body: body}}, nil
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var out []mimePart
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("node class userData MIME part: %w", err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			return nil, err
		}
		out = append(out, mimePart{contentType: part.Header.Get("Content-Type"), body: body})
	}
}

// bottlerocket is the node class's TOML with nodewright's
// [settings.kubernetes] values laid over it: cluster identity and
// registration can't be overridden, other settings can be added.
func (b bootstrap) bottlerocket() (string, error) {
	root := map[string]any{}
	if strings.TrimSpace(b.UserData) != "" {
		if err := toml.Unmarshal([]byte(b.UserData), &root); err != nil {
			return "", fmt.Errorf("node class userData is not valid TOML: %w", err)
		}
	}
	settings, _ := root["settings"].(map[string]any)
	if settings == nil {
		settings = map[string]any{}
	}
	k8s, _ := settings["kubernetes"].(map[string]any)
	if k8s == nil {
		k8s = map[string]any{}
	}
	k8s["cluster-name"] = b.ClusterName
	k8s["api-server"] = b.Endpoint
	if b.CABundle != "" {
		k8s["cluster-certificate"] = b.CABundle
	}
	maps.Copy(k8s, bottlerocketKubelet(b.Kubelet))
	labels, _ := k8s["node-labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
	}
	for k, v := range b.Labels {
		labels[k] = v
	}
	if len(labels) > 0 {
		k8s["node-labels"] = labels
	}
	taints, _ := k8s["node-taints"].(map[string]any)
	if taints == nil {
		taints = map[string]any{}
	}
	byKey := map[string][]string{}
	for _, t := range b.Taints {
		byKey[t.Key] = append(byKey[t.Key], t.Value+":"+string(t.Effect))
	}
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		vals := byKey[k]
		sort.Strings(vals)
		taints[k] = vals
	}
	if len(taints) > 0 {
		k8s["node-taints"] = taints
	}
	settings["kubernetes"] = k8s
	root["settings"] = settings
	out, err := toml.Marshal(root)
	if err != nil {
		return "", fmt.Errorf("encoding Bottlerocket settings: %w", err)
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// kubeletConfig is the node class's kubelet settings as nodeadm's inline
// kubelet config: the API's field names are KubeletConfiguration's (as in
// Karpenter's nodeadm bootstrap), durations written as strings like "1m30s".
func kubeletConfig(k *v1.KubeletConfiguration) (map[string]any, error) {
	out := map[string]any{}
	if k == nil {
		return out, nil
	}
	raw, err := json.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("encoding kubelet settings: %w", err)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("encoding kubelet settings: %w", err)
	}
	// maxPods 0 means the type's default, as the catalog counts it; to
	// kubelet it would mean no pods at all.
	if k.MaxPods != nil && *k.MaxPods == 0 {
		delete(out, "maxPods")
	}
	return out, nil
}

// bottlerocketKubelet is the node class's kubelet settings as Bottlerocket's
// settings.kubernetes keys. Every field has one but podsPerCore, which the
// EC2NodeClass's validation refuses on Bottlerocket.
func bottlerocketKubelet(k *v1.KubeletConfiguration) map[string]any {
	out := map[string]any{}
	if k == nil {
		return out
	}
	switch len(k.ClusterDNS) {
	case 0:
	case 1:
		out["cluster-dns-ip"] = k.ClusterDNS[0]
	default:
		// Bottlerocket takes a list as well as a single address.
		out["cluster-dns-ip"] = slices.Clone(k.ClusterDNS)
	}
	if k.MaxPods != nil && *k.MaxPods > 0 {
		out["max-pods"] = int64(*k.MaxPods)
	}
	for key, m := range map[string]map[string]string{
		"system-reserved": k.SystemReserved, "kube-reserved": k.KubeReserved,
		"eviction-hard": k.EvictionHard, "eviction-soft": k.EvictionSoft,
	} {
		if len(m) > 0 {
			out[key] = maps.Clone(m)
		}
	}
	if len(k.EvictionSoftGracePeriod) > 0 {
		grace := map[string]string{}
		for signal, d := range k.EvictionSoftGracePeriod {
			grace[signal] = d.Duration.String()
		}
		out["eviction-soft-grace-period"] = grace
	}
	if k.EvictionMaxPodGracePeriod != nil {
		out["eviction-max-pod-grace-period"] = int64(*k.EvictionMaxPodGracePeriod)
	}
	// Bottlerocket's model types the image GC thresholds as strings.
	if k.ImageGCHighThresholdPercent != nil {
		out["image-gc-high-threshold-percent"] = strconv.Itoa(int(*k.ImageGCHighThresholdPercent))
	}
	if k.ImageGCLowThresholdPercent != nil {
		out["image-gc-low-threshold-percent"] = strconv.Itoa(int(*k.ImageGCLowThresholdPercent))
	}
	if k.CPUCFSQuota != nil {
		out["cpu-cfs-quota-enforced"] = *k.CPUCFSQuota
	}
	return out
}
