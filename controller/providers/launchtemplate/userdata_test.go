package launchtemplate

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	toml "github.com/pelletier/go-toml/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/test/localcloud/nodeagent"
)

func testBootstrap(userData string) bootstrap {
	return bootstrap{ClusterName: "test", Endpoint: "https://127.0.0.1:6443", CABundle: "Y2E=", CIDR: "10.96.0.0/16", Kubelet: &v1.KubeletConfiguration{MaxPods: ptr.To[int32](29)},
		Labels:   map[string]string{v1.NodePoolLabelKey: "default", "team": "a"},
		Taints:   []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}, v1.UnregisteredNoExecuteTaint},
		UserData: userData}
}

func TestUserDataParsesAsTheNodeAgentDoes(t *testing.T) {
	for _, tc := range []struct {
		name, family, userData, format string
		extra                          string // must appear in the decoded document
	}{
		{"al2023", v1.AMIFamilyAL2023, "", nodeagent.FormatNodeadm, "application/node.eks.aws"},
		{"al2023 with a script", v1.AMIFamilyAL2023, "#!/bin/bash\necho hello\n", nodeagent.FormatNodeadm, "text/x-shellscript"},
		{"al2023 with MIME", v1.AMIFamilyAL2023, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n--B\nContent-Type: text/x-shellscript\n\necho mime\n--B--\n", nodeagent.FormatNodeadm, "echo mime"},
		{"bottlerocket", v1.AMIFamilyBottlerocket, "", nodeagent.FormatBottlerocket, "[settings.kubernetes]"},
		{"bottlerocket with settings", v1.AMIFamilyBottlerocket, "[settings.host-containers.admin]\nenabled = true\n[settings.kubernetes]\ncluster-name = \"other\"\n", nodeagent.FormatBottlerocket, "host-containers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ud, err := testBootstrap(tc.userData).userData(tc.family)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := base64.StdEncoding.DecodeString(ud)
			if !strings.Contains(string(raw), tc.extra) {
				t.Errorf("userData lacks %q:\n%s", tc.extra, raw)
			}
			b, err := nodeagent.ParseUserData(ud)
			if err != nil {
				t.Fatalf("node agent rejects userData: %v\n%s", err, raw)
			}
			if b.Format != tc.format || b.ClusterName != "test" || b.APIServerEndpoint != "https://127.0.0.1:6443" || b.MaxPods != 29 ||
				b.CertificateAuthority != "Y2E=" {
				t.Errorf("bootstrap %+v", b)
			}
			if b.Labels[v1.NodePoolLabelKey] != "default" || b.Labels["team"] != "a" || len(b.Taints) != 2 {
				t.Errorf("labels %v taints %v", b.Labels, b.Taints)
			}
		})
	}
}

func TestKubeletMaySet(t *testing.T) {
	for k, want := range map[string]bool{
		"team": true, "example.com/x": true, v1.NodePoolLabelKey: true, "node.kubernetes.io/exclude": true,
		corev1.LabelArchStable: true, "node-role.kubernetes.io/worker": false, "kubernetes.io/foo": false, "x.k8s.io/y": false,
	} {
		if got := kubeletMaySet(k); got != want {
			t.Errorf("kubeletMaySet(%q) = %v, want %v", k, got, want)
		}
	}
}

// fullKubelet sets every kubelet field the EC2NodeClass accepts.
func fullKubelet() *v1.KubeletConfiguration {
	return &v1.KubeletConfiguration{
		ClusterDNS:                  []string{"10.96.0.10"},
		MaxPods:                     ptr.To[int32](40),
		PodsPerCore:                 ptr.To[int32](8),
		SystemReserved:              map[string]string{"cpu": "100m", "memory": "200Mi"},
		KubeReserved:                map[string]string{"cpu": "150m", "memory": "300Mi", "ephemeral-storage": "2Gi"},
		EvictionHard:                map[string]string{"memory.available": "5%", "nodefs.available": "10%"},
		EvictionSoft:                map[string]string{"memory.available": "500Mi"},
		EvictionSoftGracePeriod:     map[string]metav1.Duration{"memory.available": {Duration: 90 * time.Second}},
		EvictionMaxPodGracePeriod:   ptr.To[int32](60),
		ImageGCHighThresholdPercent: ptr.To[int32](85),
		ImageGCLowThresholdPercent:  ptr.To[int32](70),
		CPUCFSQuota:                 ptr.To(false),
	}
}

func TestAL2023KubeletConfig(t *testing.T) {
	b := testBootstrap("")
	b.Kubelet = fullKubelet()
	ud, err := b.userData(v1.AMIFamilyAL2023)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(ud)
	// The NodeConfig is the first MIME part; cut it out of the document.
	_, doc, _ := strings.Cut(string(raw), "Content-Type: application/node.eks.aws")
	doc, _, _ = strings.Cut(doc, "--"+mimeBoundary)
	var nc struct {
		Spec struct {
			Kubelet struct {
				Config map[string]any `json:"config"`
			} `json:"kubelet"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(doc), &nc); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	want := map[string]any{
		"clusterDNS":                  []any{"10.96.0.10"},
		"maxPods":                     float64(40),
		"podsPerCore":                 float64(8),
		"systemReserved":              map[string]any{"cpu": "100m", "memory": "200Mi"},
		"kubeReserved":                map[string]any{"cpu": "150m", "memory": "300Mi", "ephemeral-storage": "2Gi"},
		"evictionHard":                map[string]any{"memory.available": "5%", "nodefs.available": "10%"},
		"evictionSoft":                map[string]any{"memory.available": "500Mi"},
		"evictionSoftGracePeriod":     map[string]any{"memory.available": "1m30s"},
		"evictionMaxPodGracePeriod":   float64(60),
		"imageGCHighThresholdPercent": float64(85),
		"imageGCLowThresholdPercent":  float64(70),
		"cpuCFSQuota":                 false,
	}
	if !reflect.DeepEqual(nc.Spec.Kubelet.Config, want) {
		t.Errorf("kubelet config\n got %v\nwant %v", nc.Spec.Kubelet.Config, want)
	}
}

func TestBottlerocketKubeletSettings(t *testing.T) {
	b := testBootstrap("")
	b.Kubelet = fullKubelet()
	b.Kubelet.PodsPerCore = nil
	b.Kubelet.ClusterDNS = []string{"10.96.0.10", "169.254.20.10"}
	ud, err := b.userData(v1.AMIFamilyBottlerocket)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(ud)
	var root struct {
		Settings struct {
			Kubernetes map[string]any `toml:"kubernetes"`
		} `toml:"settings"`
	}
	if err := toml.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	got := root.Settings.Kubernetes
	for _, k := range []string{"cluster-name", "api-server", "cluster-certificate", "node-labels", "node-taints"} {
		delete(got, k)
	}
	want := map[string]any{
		"cluster-dns-ip":                  []any{"10.96.0.10", "169.254.20.10"},
		"max-pods":                        int64(40),
		"system-reserved":                 map[string]any{"cpu": "100m", "memory": "200Mi"},
		"kube-reserved":                   map[string]any{"cpu": "150m", "memory": "300Mi", "ephemeral-storage": "2Gi"},
		"eviction-hard":                   map[string]any{"memory.available": "5%", "nodefs.available": "10%"},
		"eviction-soft":                   map[string]any{"memory.available": "500Mi"},
		"eviction-soft-grace-period":      map[string]any{"memory.available": "1m30s"},
		"eviction-max-pod-grace-period":   int64(60),
		"image-gc-high-threshold-percent": "85",
		"image-gc-low-threshold-percent":  "70",
		"cpu-cfs-quota-enforced":          false,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings.kubernetes\n got %v\nwant %v", got, want)
	}
}

// TestNodeAgentReadsKubeletBack: the node agent reads back from userData
// the settings the catalog plans with (instancetype.Kubelet, which this
// package can't import), for both families.
func TestNodeAgentReadsKubeletBack(t *testing.T) {
	for _, family := range []string{v1.AMIFamilyAL2023, v1.AMIFamilyBottlerocket} {
		t.Run(family, func(t *testing.T) {
			b := testBootstrap("")
			b.Kubelet = fullKubelet()
			want := catalog.Kubelet{MaxPods: 40, PodsPerCore: 8,
				SystemReserved: corev1.ResourceList{"cpu": resource.MustParse("100m"), "memory": resource.MustParse("200Mi")},
				KubeReserved: corev1.ResourceList{"cpu": resource.MustParse("150m"), "memory": resource.MustParse("300Mi"),
					"ephemeral-storage": resource.MustParse("2Gi")},
				EvictionHard: map[string]string{"memory.available": "5%", "nodefs.available": "10%"},
			}
			if family == v1.AMIFamilyBottlerocket {
				b.Kubelet.PodsPerCore = nil
				want.PodsPerCore = 0
			}
			ud, err := b.userData(family)
			if err != nil {
				t.Fatal(err)
			}
			boot, err := nodeagent.ParseUserData(ud)
			if err != nil {
				t.Fatal(err)
			}
			if got := boot.Kubelet(); !reflect.DeepEqual(got, want) {
				t.Errorf("node agent reads\n%+v\nthe catalog planned\n%+v", got, want)
			}
		})
	}
}

func TestMaxPodsZeroLeavesTheDefault(t *testing.T) {
	for _, family := range []string{v1.AMIFamilyAL2023, v1.AMIFamilyBottlerocket} {
		b := testBootstrap("")
		b.Kubelet = &v1.KubeletConfiguration{MaxPods: ptr.To[int32](0)}
		ud, err := b.userData(family)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(ud)
		if strings.Contains(string(raw), "maxPods") || strings.Contains(string(raw), "max-pods") {
			t.Errorf("%s: maxPods 0 written to userData:\n%s", family, raw)
		}
	}
}
