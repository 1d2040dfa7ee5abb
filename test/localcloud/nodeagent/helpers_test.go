package nodeagent_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// nodeadmMIME is AL2023 userData as nodewright writes it: a shell script
// part and a NodeConfig part in a MIME multipart document.
func nodeadmMIME(cluster, endpoint, kubelet string) string {
	return strings.Join([]string{
		`MIME-Version: 1.0`,
		`Content-Type: multipart/mixed; boundary="//"`,
		``,
		`--//`,
		`Content-Type: text/x-shellscript; charset="us-ascii"`,
		``,
		`#!/bin/bash`,
		`echo "custom setup"`,
		``,
		`--//`,
		`Content-Type: application/node.eks.aws`,
		``,
		`---`,
		`apiVersion: node.eks.aws/v1alpha1`,
		`kind: NodeConfig`,
		`spec:`,
		`  cluster:`,
		`    name: ` + cluster,
		`    apiServerEndpoint: ` + endpoint,
		`    certificateAuthority: LS0tLS1CRUdJTg==`,
		`    cidr: 10.96.0.0/12`,
		`  kubelet:`,
		kubelet,
		``,
		`--//--`,
		``,
	}, "\n")
}

const nodeadmKubelet = `    config:
      maxPods: 20
      clusterDNS: [10.96.0.10]
    flags:
    - --node-labels=nodewright.dev/pool=default,team=blue
    - --register-with-taints=dedicated=batch:NoExecute,nodewright.dev/unregistered:NoSchedule`

func bottlerocketTOML(cluster, endpoint string) string {
	return fmt.Sprintf(`[settings.kubernetes]
cluster-name = %q
api-server = %q
cluster-certificate = "LS0tLS1CRUdJTg=="
max-pods = 58

[settings.kubernetes.node-labels]
"nodewright.dev/pool" = "br"
"team" = "green"

[settings.kubernetes.node-taints]
"dedicated" = ["infra:NoSchedule"]
"nodewright.dev/unregistered" = ":NoExecute"

[settings.host-containers.admin]
enabled = false
`, cluster, endpoint)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
func expectList(t *testing.T, what string, got corev1.ResourceList, want map[corev1.ResourceName]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s has %d resources %v, want %d", what, len(got), got, len(want))
	}
	for name, w := range want {
		q, ok := got[name]
		if !ok {
			t.Errorf("%s lacks %s", what, name)
			continue
		}
		if q.Cmp(resource.MustParse(w)) != 0 {
			t.Errorf("%s %s = %s, want %s", what, name, q.String(), w)
		}
	}
}
