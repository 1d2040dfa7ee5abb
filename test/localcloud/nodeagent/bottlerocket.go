package nodeagent

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	toml "github.com/pelletier/go-toml/v2"
)

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
