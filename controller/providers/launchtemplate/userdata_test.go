package launchtemplate

import (
	"encoding/base64"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/test/localcloud/nodeagent"
)

func testBootstrap(userData string) bootstrap {
	return bootstrap{ClusterName: "test", Endpoint: "https://127.0.0.1:6443", CABundle: "Y2E=", CIDR: "10.96.0.0/16", MaxPods: 29,
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
