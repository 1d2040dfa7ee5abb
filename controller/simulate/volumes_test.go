package simulate

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodewright/nodewright/controller/catalog"
)

// Each pool's NodeCost.Volumes comes from its EC2NodeClass in the input
// files; a run without NodePools prices the default root volume.
func TestLoadPricesEachPoolsVolumes(t *testing.T) {
	dir := t.TempDir()
	pools := filepath.Join(dir, "pools.yaml")
	err := os.WriteFile(pools, []byte(`apiVersion: nodewright.dev/v1
kind: EC2NodeClass
metadata: {name: big}
spec:
  role: r
  amiSelectorTerms: [{alias: al2023@latest}]
  blockDeviceMappings:
  - {deviceName: /dev/xvda, ebs: {volumeSize: 100Gi, volumeType: gp2}}
---
apiVersion: nodewright.dev/v1
kind: EC2NodeClass
metadata: {name: plain}
spec:
  role: r
  amiSelectorTerms: [{alias: al2023@latest}]
---
apiVersion: nodewright.dev/v1
kind: NodePool
metadata: {name: big}
spec:
  template:
    spec:
      nodeClassRef: {group: nodewright.dev, kind: EC2NodeClass, name: big}
---
apiVersion: nodewright.dev/v1
kind: NodePool
metadata: {name: plain}
spec:
  template:
    spec:
      nodeClassRef: {group: nodewright.dev, kind: EC2NodeClass, name: plain}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	in, err := Load(Options{PodsFile: examples(t, "workload.yaml"), NodePoolsFile: pools, At: at})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"big": 100 * 0.10 / catalog.HoursPerMonth, "plain": 20 * 0.08 / catalog.HoursPerMonth}
	for _, np := range in.NodePools {
		if math.Abs(np.NodeCost.Volumes-want[np.Name]) > 1e-12 {
			t.Errorf("pool %s volumes %v/h, want %v", np.Name, np.NodeCost.Volumes, want[np.Name])
		}
	}
	in, err = Load(Options{PodsFile: examples(t, "workload.yaml"), At: at})
	if err != nil {
		t.Fatal(err)
	}
	if got := in.NodePools[0].NodeCost.Volumes; math.Abs(got-want["plain"]) > 1e-12 {
		t.Errorf("default pool volumes %v/h, want the 20 GiB gp3 root %v", got, want["plain"])
	}

	bad := strings.Replace(mustRead(t, pools), "volumeType: gp2", "volumeType: gp9", 1)
	if err := os.WriteFile(pools, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(Options{PodsFile: examples(t, "workload.yaml"), NodePoolsFile: pools, At: at}); err == nil || !strings.Contains(err.Error(), "gp9") {
		t.Errorf("an unknown volume type must fail the load naming it, got %v", err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestVolumeTopology: the shipped volumes example puts each StatefulSet's
// pods in the zone of its volumes and holds the pod whose Immediate claim
// is unbound, saying why.
func TestVolumeTopology(t *testing.T) {
	in, err := Load(Options{PodsFile: examples(t, "volumes.yaml"), At: testAt})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(in)
	if err != nil {
		t.Fatal(err)
	}
	zoneOf := map[string]string{}
	for _, nc := range rep.NodeClaims {
		for _, p := range nc.Pods {
			zoneOf[p] = nc.Zone
		}
	}
	for pod, zone := range map[string]string{"default/db-0": "us-east-1b", "default/db-1": "us-east-1b", "default/cache-0": "us-east-1c"} {
		if zoneOf[pod] != zone {
			t.Errorf("%s in zone %q, want %s (claims %+v)", pod, zoneOf[pod], zone, rep.NodeClaims)
		}
	}
	if len(rep.Unschedulable) != 1 || rep.Unschedulable[0].Pod != "default/legacy" ||
		!strings.Contains(rep.Unschedulable[0].Reason, "persistentvolumeclaim default/legacy-data is not bound yet (storageclass io2-immediate binds Immediate)") {
		t.Errorf("unschedulable = %+v, want default/legacy waiting for its Immediate claim", rep.Unschedulable)
	}
}
