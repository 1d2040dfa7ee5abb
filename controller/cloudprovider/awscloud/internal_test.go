package awscloud

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/pricing"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
	"github.com/nodewright/nodewright/test/localcloud/nodeagent"
)

type fakePricing struct{ docs []string }

func (f fakePricing) GetProducts(context.Context, *pricing.GetProductsInput, ...func(*pricing.Options)) (*pricing.GetProductsOutput, error) {
	return &pricing.GetProductsOutput{PriceList: f.docs}, nil
}

const m5Doc = `{"product":{"productFamily":"Compute Instance","attributes":{"instanceType":"m5.large","regionCode":"us-east-1"}},
"terms":{"OnDemand":{"X.JRTCKXETXF":{"priceDimensions":{"X.JRTCKXETXF.6YS6EN2CT7":{"unit":"Hrs","pricePerUnit":{"USD":"0.1234000000"}}}}}}}`

func TestOnDemandPricesFromPriceList(t *testing.T) {
	p := newWithClients(Options{Region: "us-east-1"}, nil, nil, fakePricing{docs: []string{m5Doc, `not json`, `{"product":{}}`}}, nil)
	got, err := p.fetchOnDemand(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["m5.large"] != 0.1234 {
		t.Fatalf("prices %v", got)
	}
	pr := &prices{region: "us-east-1", onDemand: got}
	if v, _ := pr.OnDemand(catalog.InstanceType{Name: "m5.large"}); v != 0.1234 {
		t.Errorf("m5.large = %v, want the Price List's 0.1234", v)
	}
	// Types the Price List misses fall back to the embedded catalog.
	c5 := catalog.InstanceType{Name: "c5.large", OnDemandPrice: map[string]float64{"us-east-1": 0.085}}
	if v, ok := pr.OnDemand(c5); !ok || v != 0.085 {
		t.Errorf("c5.large = %v %v, want the catalog's 0.085", v, ok)
	}
	if _, ok := pr.Spot(c5, "us-east-1a"); ok {
		t.Error("a type without spot history has a spot price")
	}
}

// Against the emulator's Price List, which files bare metal apart (as AWS
// does), both kinds of type get their on-demand price.
func TestOnDemandPricesCoverBareMetal(t *testing.T) {
	emu := awsemu.NewForTest(t, awsemu.Options{})
	p := newWithClients(Options{Region: "us-east-1"}, nil, nil, pricing.NewFromConfig(emu.Config()), nil)
	got, err := p.fetchOnDemand(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	types, err := catalog.InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, it := range types {
		if it.Name != "m5.large" && it.Name != "m5.metal" && it.Name != "c7g.metal" {
			continue
		}
		checked++
		if want, _ := it.Price("us-east-1"); got[it.Name] != want || want == 0 {
			t.Errorf("%s = %v, want %v", it.Name, got[it.Name], want)
		}
	}
	if checked != 3 {
		t.Fatalf("the catalog holds %d of the three types checked", checked)
	}
}

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

func TestProviderID(t *testing.T) {
	if id, err := ParseProviderID(ProviderID("us-east-1a", "i-0abc")); err != nil || id != "i-0abc" {
		t.Errorf("round trip = %q, %v", id, err)
	}
	for _, bad := range []string{"", "aws:///us-east-1a", "gce:///x/i-1", "aws:///us-east-1a/vol-1"} {
		if _, err := ParseProviderID(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
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
