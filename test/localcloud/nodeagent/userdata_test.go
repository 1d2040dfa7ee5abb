package nodeagent_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/nodewright/nodewright/test/localcloud/nodeagent"
	corev1 "k8s.io/api/core/v1"
)

const endpoint = "https://127.0.0.1:6443"

func TestParseUserDataNodeadmMIME(t *testing.T) {
	for name, doc := range map[string]string{
		"LF":   nodeadmMIME("prod", endpoint, nodeadmKubelet),
		"CRLF": strings.ReplaceAll(nodeadmMIME("prod", endpoint, nodeadmKubelet), "\n", "\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			b, err := nodeagent.ParseUserData(b64(doc))
			if err != nil {
				t.Fatalf("ParseUserData: %v", err)
			}
			want := &nodeagent.Bootstrap{
				Format: nodeagent.FormatNodeadm, ClusterName: "prod", APIServerEndpoint: endpoint,
				CertificateAuthority: "LS0tLS1CRUdJTg==", CIDR: "10.96.0.0/12", MaxPods: 20,
				Labels: map[string]string{"nodewright.dev/pool": "default", "team": "blue"},
				Taints: []corev1.Taint{
					{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoExecute},
					{Key: "nodewright.dev/unregistered", Effect: corev1.TaintEffectNoSchedule},
				},
			}
			if !reflect.DeepEqual(b, want) {
				t.Errorf("got  %+v\nwant %+v", b, want)
			}
		})
	}
}

func TestParseUserDataBareNodeConfig(t *testing.T) {
	doc := `apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  cluster:
    name: prod
    apiServerEndpoint: https://example.eks.amazonaws.com
  kubelet:
    config:
      registerWithTaints:
      - key: gpu
        value: "true"
        effect: NoSchedule
    flags: ["--node-labels", "a=b", "--max-pods=7"]
`
	b, err := nodeagent.ParseUserData(b64(doc))
	if err != nil {
		t.Fatalf("ParseUserData: %v", err)
	}
	if b.ClusterName != "prod" || b.APIServerEndpoint != "https://example.eks.amazonaws.com" || b.MaxPods != 7 {
		t.Errorf("cluster/endpoint/maxPods = %q %q %d", b.ClusterName, b.APIServerEndpoint, b.MaxPods)
	}
	if !reflect.DeepEqual(b.Labels, map[string]string{"a": "b"}) {
		t.Errorf("labels = %v", b.Labels)
	}
	if want := []corev1.Taint{{Key: "gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule}}; !reflect.DeepEqual(b.Taints, want) {
		t.Errorf("taints = %v, want %v", b.Taints, want)
	}
}

// Karpenter's AL2023 NodeConfig quotes these flags with Go's %q; nodeadm
// hands them to kubelet through systemd, which unquotes them.
func TestParseUserDataUnquotesKubeletFlagsAsSystemdDoes(t *testing.T) {
	doc := `apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  cluster:
    name: prod
    apiServerEndpoint: https://example.eks.amazonaws.com
  kubelet:
    flags:
    - --node-labels="karpenter.sh/nodepool=default,team=blue"
    - --register-with-taints="karpenter.sh/unregistered:NoExecute,dedicated=batch:NoSchedule"
    - '--max-pods 17'
`
	b, err := nodeagent.ParseUserData(b64(doc))
	if err != nil {
		t.Fatalf("ParseUserData: %v", err)
	}
	if want := map[string]string{"karpenter.sh/nodepool": "default", "team": "blue"}; !reflect.DeepEqual(b.Labels, want) {
		t.Errorf("labels = %v, want %v", b.Labels, want)
	}
	want := []corev1.Taint{
		{Key: "karpenter.sh/unregistered", Effect: corev1.TaintEffectNoExecute},
		{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule},
	}
	if !reflect.DeepEqual(b.Taints, want) {
		t.Errorf("taints = %v, want %v", b.Taints, want)
	}
	if b.MaxPods != 17 {
		t.Errorf("maxPods = %d, want 17", b.MaxPods)
	}
	// An unbalanced quote is a kubelet that never starts: say so.
	if _, err := nodeagent.ParseUserData(b64(strings.Replace(doc, `blue"`, `blue`, 1))); err == nil {
		t.Error("an unterminated quote was accepted")
	}
}

func TestParseUserDataMergesNodeConfigParts(t *testing.T) {
	doc := "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=BOUNDARY\n\n" +
		"--BOUNDARY\nContent-Type: application/node.eks.aws\n\n" +
		"apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: first\n    apiServerEndpoint: https://a\n  kubelet:\n    config:\n      maxPods: 10\n" +
		"--BOUNDARY\nContent-Type: application/node.eks.aws; charset=us-ascii\n\n" +
		"apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n    name: second\n  kubelet:\n    flags: [--node-labels=x=y]\n" +
		"--BOUNDARY--\n"
	b, err := nodeagent.ParseUserData(b64(doc))
	if err != nil {
		t.Fatalf("ParseUserData: %v", err)
	}
	if b.ClusterName != "second" || b.APIServerEndpoint != "https://a" || b.MaxPods != 10 || b.Labels["x"] != "y" {
		t.Errorf("merged = %+v", b)
	}
}

func TestParseUserDataBottlerocket(t *testing.T) {
	b, err := nodeagent.ParseUserData(b64(bottlerocketTOML("prod", endpoint)))
	if err != nil {
		t.Fatalf("ParseUserData: %v", err)
	}
	want := &nodeagent.Bootstrap{
		Format: nodeagent.FormatBottlerocket, ClusterName: "prod", APIServerEndpoint: endpoint,
		CertificateAuthority: "LS0tLS1CRUdJTg==", MaxPods: 58,
		Labels: map[string]string{"nodewright.dev/pool": "br", "team": "green"},
		Taints: []corev1.Taint{
			{Key: "dedicated", Value: "infra", Effect: corev1.TaintEffectNoSchedule},
			{Key: "nodewright.dev/unregistered", Effect: corev1.TaintEffectNoExecute},
		},
	}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("got  %+v\nwant %+v", b, want)
	}
}

func TestParseUserDataMalformed(t *testing.T) {
	nodeConfig := func(spec string) string {
		return "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n" + spec
	}
	cluster := "  cluster:\n    name: prod\n    apiServerEndpoint: https://a\n"
	cases := []struct {
		name, userData, wantErr string
	}{
		{"empty", "", "empty"},
		{"not base64", "!!!not base64", "base64"},
		{"only whitespace", b64("  \n"), "empty"},
		{"shell script", b64("#!/bin/bash\n/etc/eks/bootstrap.sh prod\n"), "NodeConfig"},
		{"garbage", b64("\x00\x01garbage{{"), ""},
		{"wrong kind", b64("apiVersion: v1\nkind: ConfigMap\n"), "not a node.eks.aws NodeConfig"},
		{"no cluster name", b64(nodeConfig("  cluster:\n    apiServerEndpoint: https://a\n")), "names no cluster"},
		{"no endpoint", b64(nodeConfig("  cluster:\n    name: prod\n")), "no API server endpoint"},
		{"bad label", b64(nodeConfig(cluster + "  kubelet:\n    flags: ['--node-labels=\"bad key=v\"']\n")), "label key"},
		{"label without value", b64(nodeConfig(cluster + "  kubelet:\n    flags: [\"--node-labels=novalue\"]\n")), "not key=value"},
		{"bad taint effect", b64(nodeConfig(cluster + "  kubelet:\n    flags: [\"--register-with-taints=a=b:Sometimes\"]\n")), "unknown effect"},
		{"taint without effect", b64(nodeConfig(cluster + "  kubelet:\n    flags: [\"--register-with-taints=a=b\"]\n")), "no effect"},
		{"fractional maxPods", b64(nodeConfig(cluster + "  kubelet:\n    config:\n      maxPods: 1.5\n")), "whole number"},
		{"MIME without NodeConfig", b64("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"//\"\n\n--//\nContent-Type: text/x-shellscript\n\n#!/bin/bash\n--//--\n"), "no application/node.eks.aws part"},
		{"MIME without boundary", b64("MIME-Version: 1.0\nContent-Type: multipart/mixed\n\n--//\n"), "no boundary"},
		{"MIME wrong boundary", b64(strings.ReplaceAll(nodeadmMIME("prod", endpoint, nodeadmKubelet), `boundary="//"`, `boundary="=="`)), "no application/node.eks.aws part"},
		{"MIME bad YAML part", b64("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: application/node.eks.aws\n\nspec: [unclosed\n--B--\n"), "not valid YAML"},
		{"TOML syntax", b64("[settings.kubernetes\ncluster-name = \"prod\"\n"), "not valid TOML"},
		{"TOML without kubernetes", b64("[settings.host-containers.admin]\nenabled = true\n"), "no [settings.kubernetes]"},
		{"TOML without cluster", b64("[settings.kubernetes]\napi-server = \"https://a\"\n"), "names no cluster"},
		{"TOML without api-server", b64("[settings.kubernetes]\ncluster-name = \"prod\"\n"), "no API server endpoint"},
		{"TOML cluster not a string", b64("[settings.kubernetes]\ncluster-name = 3\napi-server = \"https://a\"\n"), "not a string"},
		{"TOML taint without effect", b64("[settings.kubernetes]\ncluster-name = \"p\"\napi-server = \"https://a\"\n[settings.kubernetes.node-taints]\n\"k\" = [\"v\"]\n"), "has no effect"},
		{"TOML bad label", b64("[settings.kubernetes]\ncluster-name = \"p\"\napi-server = \"https://a\"\n[settings.kubernetes.node-labels]\n\"k\" = \"bad value!\"\n"), "value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := nodeagent.ParseUserData(c.userData)
			if err == nil {
				t.Fatalf("ParseUserData succeeded: %+v", b)
			}
			if !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("error %q does not mention %q", err, c.wantErr)
			}
		})
	}
}

// TestParseUserDataKubeletReservations: the settings that shape allocatable
// are read from both formats; a later NodeConfig document's keys replace an
// earlier one's, as nodeadm merges them.
func TestParseUserDataKubeletReservations(t *testing.T) {
	nodeadm := `MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="B"

--B
Content-Type: application/node.eks.aws

apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  cluster: {name: prod, apiServerEndpoint: https://example.eks.amazonaws.com}
  kubelet:
    config:
      maxPods: 30
      podsPerCore: 4
      systemReserved: {cpu: 100m, memory: 200Mi}
      kubeReserved: {memory: 300Mi}
      evictionHard: {memory.available: 5%}
--B
Content-Type: application/node.eks.aws

apiVersion: node.eks.aws/v1alpha1
kind: NodeConfig
spec:
  kubelet:
    config:
      systemReserved: {memory: 400Mi}
--B--
`
	bottlerocket := `[settings.kubernetes]
cluster-name = "prod"
api-server = "https://example.eks.amazonaws.com"
max-pods = 30
system-reserved = { cpu = "100m", memory = "400Mi" }
kube-reserved = { memory = "300Mi" }
eviction-hard = { "memory.available" = "5%" }
`
	for name, tc := range map[string]struct {
		doc         string
		podsPerCore int
	}{"nodeadm": {nodeadm, 4}, "bottlerocket": {bottlerocket, 0}} {
		t.Run(name, func(t *testing.T) {
			b, err := nodeagent.ParseUserData(b64(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if b.MaxPods != 30 || b.PodsPerCore != tc.podsPerCore ||
				!reflect.DeepEqual(b.SystemReserved, map[string]string{"cpu": "100m", "memory": "400Mi"}) ||
				!reflect.DeepEqual(b.KubeReserved, map[string]string{"memory": "300Mi"}) ||
				!reflect.DeepEqual(b.EvictionHard, map[string]string{"memory.available": "5%"}) {
				t.Errorf("bootstrap %+v", b)
			}
		})
	}
}

func TestParseUserDataRefusesBadReservations(t *testing.T) {
	for name, tc := range map[string]struct{ config, want string }{
		"reservation":    {`systemReserved: {memory: lots}`, `systemReserved[memory] "lots" is not a quantity`},
		"eviction":       {`evictionHard: {memory.available: 150%}`, `evictionHard[memory.available] "150%" is not a percentage`},
		"not a map":      {`kubeReserved: 5`, "kubelet config kubeReserved is"},
		"podsPerCore":    {`podsPerCore: -1`, "negative podsPerCore"},
		"not a quantity": {`evictionHard: {nodefs.available: x}`, `evictionHard[nodefs.available] "x" is not a quantity`},
	} {
		t.Run(name, func(t *testing.T) {
			doc := "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster: {name: prod, apiServerEndpoint: https://x}\n  kubelet:\n    config:\n      " + tc.config + "\n"
			_, err := nodeagent.ParseUserData(b64(doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
