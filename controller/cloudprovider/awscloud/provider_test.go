package awscloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/catalog"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/cloudprovider/awscloud"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/providers/instance"
	"github.com/nodewright/nodewright/controller/test"
	"github.com/nodewright/nodewright/test/kubetest"
	"github.com/nodewright/nodewright/test/localcloud/awsemu"
	"github.com/nodewright/nodewright/test/localcloud/nodeagent"
)

const (
	clusterName = "test"
	endpoint    = "https://127.0.0.1:6443"
	region      = "us-east-1"
)

type env struct {
	emu *awsemu.Server
	cfg aws.Config
	// adminCfg and admin are the administrator's config and provider when
	// cfg and p are a narrower role's.
	adminCfg aws.Config
	admin    *awscloud.CloudProvider
	kube     client.Client
	p        *awscloud.CloudProvider
}

func setup(t *testing.T) *env {
	t.Helper()
	emu := awsemu.NewForTest(t, awsemu.Options{World: awsemu.WorldOptions{
		ClusterName: clusterName, ClusterEndpoint: endpoint,
		Timing: awsemu.Timing{ShuttingDownToTerminated: 50 * time.Millisecond},
	}})
	cfg := emu.Config()
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	kube := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&v1.EC2NodeClass{}).Build()
	p, err := awscloud.New(cfg, awscloud.Options{ClusterName: clusterName, ClusterEndpoint: endpoint,
		ClusterCABundle: "Y2E=", Kube: kube})
	if err != nil {
		t.Fatal(err)
	}
	_, err = iam.NewFromConfig(cfg).CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String("node-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, cfg: cfg, kube: kube, p: p}
}

// nodeClass finds the emulator's subnets and groups for clusterName.
func nodeClass(name string) *v1.EC2NodeClass {
	return test.EC2NodeClass(test.EC2NodeClassOptions{Name: name, Discovery: clusterName, Role: "node-role", Tags: map[string]string{"team": "infra"}})
}

// resolved resolves the node class and stores it where the provider reads it.
func (e *env) resolved(t *testing.T, nc *v1.EC2NodeClass) *v1.EC2NodeClass {
	t.Helper()
	ctx := context.Background()
	if err := e.p.ResolveNodeClass(ctx, nc); err != nil {
		t.Fatalf("resolving: %v", err)
	}
	st := nc.Status
	if err := e.kube.Create(ctx, nc); err != nil {
		t.Fatal(err)
	}
	if err := kubetest.UpdateStatus(ctx, e.kube, nc, func(nc *v1.EC2NodeClass) { nc.Status = st }); err != nil {
		t.Fatal(err)
	}
	return nc
}

func nodeClaim(name string, reqs ...v1.NodeSelectorRequirementWithMinValues) *v1.NodeClaim {
	return &v1.NodeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Labels: map[string]string{v1.NodePoolLabelKey: "default", "team": "a"}},
		Spec: v1.NodeClaimSpec{
			Requirements:  reqs,
			NodeClassRef:  &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"},
			Taints:        []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}},
			StartupTaints: []corev1.Taint{{Key: "cni-not-ready", Effect: corev1.TaintEffectNoExecute}},
		},
	}
}

func in(key string, values ...string) v1.NodeSelectorRequirementWithMinValues {
	return v1.NodeSelectorRequirementWithMinValues{Key: key, Operator: corev1.NodeSelectorOpIn, Values: values}
}

func nodePool() *v1.NodePool {
	np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	np.Spec.Template.Spec.NodeClassRef = &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"}
	return np
}

func find(types []*scheduling.InstanceType, name string) *scheduling.InstanceType {
	for _, it := range types {
		if it.Name == name {
			return it
		}
	}
	return nil
}

func catalogType(t *testing.T, name string) catalog.InstanceType {
	types, err := catalog.InstanceTypes()
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range types {
		if it.Name == name {
			return it
		}
	}
	t.Fatalf("%s not in catalog", name)
	return catalog.InstanceType{}
}

func (e *env) capacity(t *testing.T, typ, zone, capType string, available bool) {
	t.Helper()
	body, _ := json.Marshal(awsemu.CapacityRequest{InstanceType: typ, Zone: zone, CapacityType: capType, Available: available})
	resp, err := http.Post(e.emu.URL+"/_localcloud/faults/capacity", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("capacity fault: %s", resp.Status)
	}
}

func (e *env) instance(id string) *awsemu.Instance {
	var out awsemu.Instance
	e.emu.Do(func(w *awsemu.World) {
		if in := w.EC2.Instances[id]; in != nil {
			out = *in
		}
	})
	return &out
}

func instanceID(t *testing.T, providerID string) string {
	id, err := instance.ParseProviderID(providerID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestInstanceTypesPricesAndZones(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	nc := nodeClass("default")
	// Only the first zone's subnet: offerings must be limited to it.
	var subnetA string
	e.emu.Do(func(w *awsemu.World) { subnetA = w.EC2.Subnets[0].ID })
	nc.Spec.SubnetSelectorTerms = []v1.SubnetSelectorTerm{{ID: subnetA}}
	nc.Spec.Kubelet = &v1.KubeletConfiguration{MaxPods: ptr(int32(17)), SystemReserved: map[string]string{"memory": "500Mi"},
		KubeReserved: map[string]string{"cpu": "200m"}}
	e.resolved(t, nc)

	types, err := e.p.InstanceTypes(ctx, nodePool())
	if err != nil {
		t.Fatal(err)
	}
	if len(types) < 100 {
		t.Fatalf("only %d instance types", len(types))
	}
	m5 := find(types, "m5.large")
	if m5 == nil {
		t.Fatal("m5.large missing")
	}
	cat := catalogType(t, "m5.large")
	od, _ := cat.Price(region)
	spot, _ := cat.SyntheticSpotPrice(region, region+"a", time.Now())
	want := []scheduling.Offering{
		{Zone: region + "a", CapacityType: v1.CapacityTypeSpot, Price: spot, Available: true},
		{Zone: region + "a", CapacityType: v1.CapacityTypeOnDemand, Price: od, Available: true},
	}
	if !slices.Equal(m5.Offerings, want) {
		t.Fatalf("m5.large offerings %+v, want %+v", m5.Offerings, want)
	}
	if got := m5.Allocatable[corev1.ResourcePods]; got.Value() != 17 {
		t.Errorf("pods allocatable %s, want the node class's maxPods 17", got.String())
	}
	// 7577Mi less kube-reserved 11*17+255 = 442Mi, eviction 100Mi and
	// system-reserved 500Mi; 2 cores less the kube-reserved 200m.
	if got := m5.Allocatable[corev1.ResourceMemory]; got.Cmp(resource.MustParse("6535Mi")) != 0 {
		t.Errorf("memory allocatable %s, want 6535Mi", got.String())
	}
	if got := m5.Allocatable[corev1.ResourceCPU]; got.Cmp(resource.MustParse("1800m")) != 0 {
		t.Errorf("cpu allocatable %s, want 1800m", got.String())
	}
	if m5.Labels[corev1.LabelArchStable] != "amd64" || m5.Labels[v1.InstanceFamilyLabel] != "m5" {
		t.Errorf("labels %v", m5.Labels)
	}
	// Both architectures have an al2023 image, so Graviton types are offered.
	if find(types, "m6g.large") == nil {
		t.Error("m6g.large missing though the alias resolves an arm64 image")
	}

	// An ICE'd pool shows unavailable; the cache serves it without AWS,
	// which now refuses every call.
	for _, target := range []string{"ec2:*", "pricing:*"} {
		body, _ := json.Marshal(awsemu.APIErrorsRequest{Target: target, APIFault: awsemu.APIFault{Rate: 1, Code: "UnauthorizedOperation"}})
		resp, err := http.Post(e.emu.URL+"/_localcloud/faults/api-errors", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := e.p.ResolveNodeClass(ctx, nodeClass("probe")); err == nil {
		t.Fatal("the injected fault does not refuse EC2 calls")
	}
	e.p.ICE("m5.large", region+"a", v1.CapacityTypeSpot)
	types, err = e.p.InstanceTypes(ctx, nodePool())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range find(types, "m5.large").Offerings {
		if wantAvail := o.CapacityType != v1.CapacityTypeSpot; o.Available != wantAvail {
			t.Errorf("offering %+v: available %v, want %v", o, o.Available, wantAvail)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestCreateCheapestSpotAndUserData(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.resolved(t, nodeClass("default"))
	allowed := []string{"m5.large", "c5.large", "m5.xlarge", "c5.xlarge", "m6g.large"}
	nc := nodeClaim("default-abcde", in(corev1.LabelInstanceTypeStable, allowed...))
	out, err := e.p.Create(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	id := instanceID(t, out.Status.ProviderID)
	inst := e.instance(id)
	if inst.CapacityType != "spot" {
		t.Fatalf("launched %s, want spot", inst.CapacityType)
	}
	// price-capacity-optimized takes one of the three cheapest spot pools.
	var prices []float64
	for _, name := range allowed {
		it := catalogType(t, name)
		for _, z := range []string{"a", "b", "c"} {
			p, _ := it.SyntheticSpotPrice(region, region+z, time.Now())
			prices = append(prices, p)
		}
	}
	sort.Float64s(prices)
	if inst.SpotPrice > prices[2] {
		t.Errorf("spot price %v is not among the three cheapest %v", inst.SpotPrice, prices[:3])
	}
	if out.Status.ProviderID != "aws:///"+inst.Zone+"/"+id || out.Status.ImageID != inst.ImageID || inst.ImageID == "" {
		t.Errorf("status %+v vs instance %+v", out.Status, inst)
	}
	for k, v := range map[string]string{
		corev1.LabelInstanceTypeStable: inst.Type, corev1.LabelTopologyZone: inst.Zone, v1.CapacityTypeLabelKey: "spot",
		corev1.LabelArchStable: map[string]string{"x86_64": "amd64", "arm64": "arm64"}[inst.Architecture], v1.NodePoolLabelKey: "default",
	} {
		if out.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, out.Labels[k], v)
		}
	}
	if out.Status.Allocatable.Cpu().IsZero() || out.Status.Capacity.Memory().IsZero() {
		t.Errorf("resources %+v", out.Status)
	}
	for k, v := range map[string]string{"kubernetes.io/cluster/test": "owned", "eks:eks-cluster-name": "test",
		v1.NodePoolTagKey: "default", v1.NodeClaimTagKey: nc.Name, "Name": nc.Name, "team": "infra"} {
		if inst.Tags[k] != v {
			t.Errorf("tag %s=%q, want %q", k, inst.Tags[k], v)
		}
	}

	boot, err := nodeagent.ParseUserData(inst.UserData)
	if err != nil {
		t.Fatalf("node agent rejects userData: %v", err)
	}
	if boot.ClusterName != clusterName || boot.APIServerEndpoint != endpoint || boot.CIDR != "10.96.0.0/16" || boot.Format != nodeagent.FormatNodeadm {
		t.Errorf("bootstrap %+v", boot)
	}
	if boot.Labels[v1.NodePoolLabelKey] != "default" || boot.Labels["team"] != "a" {
		t.Errorf("labels %v", boot.Labels)
	}
	var taints []string
	for _, tt := range boot.Taints {
		taints = append(taints, tt.ToString())
	}
	sort.Strings(taints)
	if want := []string{"cni-not-ready:NoExecute", "dedicated=gpu:NoSchedule", "nodewright.dev/unregistered:NoExecute"}; !slices.Equal(taints, want) {
		t.Errorf("taints %v, want %v", taints, want)
	}

	// Create again with the same UID: the same instance.
	again, err := e.p.Create(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	if again.Status.ProviderID != out.Status.ProviderID {
		t.Errorf("retried Create launched %s, first %s", again.Status.ProviderID, out.Status.ProviderID)
	}
	// Another claim with the same settings reuses the launch template.
	if _, err := e.p.Create(ctx, nodeClaim("default-fghij", in(corev1.LabelInstanceTypeStable, allowed...))); err != nil {
		t.Fatal(err)
	}
	var templates, instances int
	e.emu.Do(func(w *awsemu.World) { templates, instances = len(w.EC2.LaunchTemplates), len(w.EC2.Instances) })
	if instances != 2 {
		t.Errorf("%d instances, want 2", instances)
	}
	// One per architecture the fleet could use.
	if templates != 2 {
		t.Errorf("%d launch templates, want 2 (amd64 and arm64 images)", templates)
	}
	n, err := e.p.DeleteLaunchTemplates(ctx, "")
	if err != nil || n != 2 {
		t.Fatalf("DeleteLaunchTemplates = %d, %v", n, err)
	}
	e.emu.Do(func(w *awsemu.World) { templates = len(w.EC2.LaunchTemplates) })
	if templates != 0 {
		t.Errorf("%d launch templates left", templates)
	}
	// Templates are recreated on the next launch.
	if _, err := e.p.Create(ctx, nodeClaim("default-klmno", in(corev1.LabelInstanceTypeStable, "m5.large"))); err != nil {
		t.Fatal(err)
	}
}

func TestCreateICEFallback(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.resolved(t, nodeClass("default"))
	it := catalogType(t, "c5.large")
	cheapest, best := "", 1e9
	for _, z := range []string{"a", "b", "c"} {
		if p, _ := it.SyntheticSpotPrice(region, region+z, time.Now()); p < best {
			cheapest, best = region+z, p
		}
	}
	e.capacity(t, "c5.large", cheapest, "spot", false)
	out, err := e.p.Create(ctx, nodeClaim("default-aaaaa", in(corev1.LabelInstanceTypeStable, "c5.large"), in(v1.CapacityTypeLabelKey, "spot")))
	if err != nil {
		t.Fatal(err)
	}
	if out.Labels[corev1.LabelTopologyZone] == cheapest || out.Labels[v1.CapacityTypeLabelKey] != "spot" {
		t.Errorf("launched %v in the ICE'd pool", out.Labels)
	}

	// Spot out everywhere: on-demand when the claim allows it.
	for _, z := range []string{"a", "b", "c"} {
		e.capacity(t, "c5.large", region+z, "spot", false)
	}
	out, err = e.p.Create(ctx, nodeClaim("default-bbbbb", in(corev1.LabelInstanceTypeStable, "c5.large")))
	if err != nil {
		t.Fatal(err)
	}
	if out.Labels[v1.CapacityTypeLabelKey] != "on-demand" {
		t.Errorf("fell back to %s, want on-demand", out.Labels[v1.CapacityTypeLabelKey])
	}
	// The provider learned the spot pools are out and offers them unavailable.
	types, err := e.p.InstanceTypes(ctx, nodePool())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range find(types, "c5.large").Offerings {
		if o.CapacityType == "spot" && o.Available {
			t.Errorf("spot offering %+v still available after ICE", o)
		}
	}

	// Nothing anywhere: InsufficientCapacityError.
	for _, z := range []string{"a", "b", "c"} {
		e.capacity(t, "c5.xlarge", region+z, "spot", false)
		e.capacity(t, "c5.xlarge", region+z, "on-demand", false)
	}
	_, err = e.p.Create(ctx, nodeClaim("default-ccccc", in(corev1.LabelInstanceTypeStable, "c5.xlarge")))
	if !cloudprovider.IsInsufficientCapacityError(err) {
		t.Fatalf("err = %v, want InsufficientCapacityError", err)
	}
	// And again, with every pool now in the ICE cache, without asking EC2.
	_, err = e.p.Create(ctx, nodeClaim("default-ddddd", in(corev1.LabelInstanceTypeStable, "c5.xlarge")))
	if !cloudprovider.IsInsufficientCapacityError(err) {
		t.Fatalf("err = %v, want InsufficientCapacityError", err)
	}
}

func TestGetListDelete(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	class := e.resolved(t, nodeClass("default"))
	out, err := e.p.Create(ctx, nodeClaim("default-xyzab", in(corev1.LabelInstanceTypeStable, "m5.large")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.p.Get(ctx, out.Status.ProviderID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "default-xyzab" || got.Labels[corev1.LabelInstanceTypeStable] != "m5.large" || got.Labels[v1.NodePoolLabelKey] != "default" ||
		got.Labels[v1.CapacityTypeLabelKey] != out.Labels[v1.CapacityTypeLabelKey] || got.Status.ImageID != out.Status.ImageID {
		t.Errorf("Get = %+v", got)
	}
	// Create and Get agree on the instance's network, which drift compares
	// with the node class.
	for _, k := range []string{v1.SubnetIDAnnotationKey, v1.SecurityGroupIDsAnnotationKey} {
		if out.Annotations[k] == "" || got.Annotations[k] != out.Annotations[k] {
			t.Errorf("annotation %s: Create %q, Get %q", k, out.Annotations[k], got.Annotations[k])
		}
	}
	// Create stamps the node class it launched with, which drift compares.
	if h := out.Annotations[v1.EC2NodeClassHashAnnotationKey]; h != class.Hash() ||
		out.Annotations[v1.EC2NodeClassHashVersionAnnotationKey] != v1.EC2NodeClassHashVersion {
		t.Errorf("node class hash %q version %q, want %q %q", h, out.Annotations[v1.EC2NodeClassHashVersionAnnotationKey],
			class.Hash(), v1.EC2NodeClassHashVersion)
	}
	list, err := e.p.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Status.ProviderID != out.Status.ProviderID {
		t.Errorf("List = %+v", list)
	}
	if _, err := e.p.Get(ctx, "aws:///us-east-1a/i-0123456789abcdef0"); !cloudprovider.IsNodeClaimNotFoundError(err) {
		t.Errorf("Get unknown = %v, want not found", err)
	}
	if err := e.p.Delete(ctx, &v1.NodeClaim{Status: v1.NodeClaimStatus{ProviderID: "aws:///us-east-1a/i-0123456789abcdef0"}}); !cloudprovider.IsNodeClaimNotFoundError(err) {
		t.Errorf("Delete unknown = %v, want not found", err)
	}
	if err := e.p.Delete(ctx, out); err != nil {
		t.Fatal(err)
	}
	list, err = e.p.List(ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("List after delete = %v, %v", list, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for e.instance(instanceID(t, out.Status.ProviderID)).State != "terminated" {
		if time.Now().After(deadline) {
			t.Fatal("instance never terminated")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := e.p.Get(ctx, out.Status.ProviderID); !cloudprovider.IsNodeClaimNotFoundError(err) {
		t.Errorf("Get terminated = %v, want not found", err)
	}
	if err := e.p.Delete(ctx, out); !cloudprovider.IsNodeClaimNotFoundError(err) {
		t.Errorf("Delete terminated = %v, want not found", err)
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	p, err := awscloud.New(e.cfg, awscloud.Options{ClusterName: clusterName, ClusterEndpoint: endpoint, Kube: e.kube,
		RetryMaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(awsemu.APIErrorsRequest{Target: "ec2:*", APIFault: awsemu.APIFault{Rate: 0.3}})
	resp, err := http.Post(e.emu.URL+"/_localcloud/faults/api-errors", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	nc := nodeClass("default")
	if err := p.ResolveNodeClass(ctx, nc); err != nil {
		t.Fatal(err)
	}
	st := nc.Status
	if err := e.kube.Create(ctx, nc); err != nil {
		t.Fatal(err)
	}
	if err := kubetest.UpdateStatus(ctx, e.kube, nc, func(nc *v1.EC2NodeClass) { nc.Status = st }); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"default-t1", "default-t2", "default-t3"} {
		if _, err := p.Create(ctx, nodeClaim(name, in(corev1.LabelInstanceTypeStable, "m5.large"))); err != nil {
			t.Fatalf("Create under throttling: %v", err)
		}
	}
	var n int
	e.emu.Do(func(w *awsemu.World) { n = len(w.EC2.Instances) })
	if n != 3 {
		t.Errorf("%d instances, want 3 (a retried CreateFleet must not launch twice)", n)
	}
}

// A GPU or Neuron type launches the image with its driver, and a type no
// image serves (an AMD GPU: AWS publishes no AL2023 image for it) is not
// offered at all.
func TestAcceleratedTypesGetTheirImages(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	nc := e.resolved(t, nodeClass("default"))
	types, err := e.p.InstanceTypes(ctx, nodePool())
	if err != nil {
		t.Fatal(err)
	}
	for name, offered := range map[string]bool{"m5.large": true, "g5.xlarge": true, "inf2.xlarge": true, "g4ad.xlarge": false} {
		if got := find(types, name) != nil; got != offered {
			t.Errorf("%s offered = %v, want %v", name, got, offered)
		}
	}
	for name, variant := range map[string]string{"m5.large": "standard", "g5.xlarge": "nvidia", "inf2.xlarge": "neuron", "m6g.large": "standard"} {
		out, err := e.p.Create(ctx, nodeClaim("default-"+strings.ReplaceAll(name, ".", "-"), in(corev1.LabelInstanceTypeStable, name)))
		if err != nil {
			t.Fatalf("launching %s: %v", name, err)
		}
		inst := e.instance(instanceID(t, out.Status.ProviderID))
		var image string
		for _, a := range nc.Status.AMIs {
			if a.ID == inst.ImageID {
				image = a.Name
			}
		}
		if !strings.Contains(image, "-"+variant+"-") {
			t.Errorf("%s launched image %s (%s), want the %s one", name, inst.ImageID, image, variant)
		}
	}
}

func TestCreateBottlerocketArm64(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	nc := nodeClass("default")
	nc.Spec.AMISelectorTerms = []v1.AMISelectorTerm{{Alias: "bottlerocket@latest"}}
	nc.Spec.Kubelet = &v1.KubeletConfiguration{MaxPods: ptr(int32(42)), SystemReserved: map[string]string{"cpu": "300m", "memory": "1Gi"}}
	e.resolved(t, nc)
	out, err := e.p.Create(ctx, nodeClaim("default-br123", in(corev1.LabelArchStable, "arm64"), in(v1.CapacityTypeLabelKey, "on-demand"),
		in(v1.InstanceCPULabel, "2")))
	if err != nil {
		t.Fatal(err)
	}
	inst := e.instance(instanceID(t, out.Status.ProviderID))
	if inst.Architecture != "arm64" || inst.CapacityType != "on-demand" || out.Labels[corev1.LabelArchStable] != "arm64" {
		t.Fatalf("launched %s %s %s", inst.Type, inst.Architecture, inst.CapacityType)
	}
	var armImage string
	for _, a := range nc.Status.AMIs {
		if a.Requirements[0].Values[0] == "arm64" && !strings.Contains(a.Name, "nvidia") {
			armImage = a.ID
		}
	}
	if inst.ImageID != armImage || out.Status.ImageID != armImage {
		t.Errorf("image %s / %s, want the arm64 bottlerocket image %s", inst.ImageID, out.Status.ImageID, armImage)
	}
	if got := out.Status.Capacity[corev1.ResourcePods]; got.Value() != 42 {
		t.Errorf("pods capacity %s, want 42", got.String())
	}
	boot, err := nodeagent.ParseUserData(inst.UserData)
	if err != nil {
		t.Fatalf("node agent rejects userData: %v", err)
	}
	if boot.Format != nodeagent.FormatBottlerocket || boot.ClusterName != clusterName || boot.MaxPods != 42 || boot.Labels[v1.NodePoolLabelKey] != "default" {
		t.Errorf("bootstrap %+v", boot)
	}
	// The claim's allocatable is what the node will compute from its userData.
	capacity, allocatable := catalog.Resources(catalogType(t, inst.Type), boot.Kubelet())
	if !equality.Semantic.DeepEqual(out.Status.Capacity, capacity) || !equality.Semantic.DeepEqual(out.Status.Allocatable, allocatable) {
		t.Errorf("claim capacity %v allocatable %v; the node computes %v and %v", out.Status.Capacity, out.Status.Allocatable, capacity, allocatable)
	}
	sysCPU := out.Status.Capacity.Cpu().MilliValue() - catalog.KubeReservedMilliCPU(int(out.Status.Capacity.Cpu().Value())) - 300
	if got := out.Status.Allocatable.Cpu().MilliValue(); got != sysCPU {
		t.Errorf("cpu allocatable %dm, want capacity less kube- and system-reserved, %dm", got, sysCPU)
	}
	// The on-demand fleet picks the cheapest 2-vCPU arm64 type.
	types, err := e.p.InstanceTypes(ctx, nodePool())
	if err != nil {
		t.Fatal(err)
	}
	cheapest := 1e9
	for _, it := range types {
		if it.Labels[corev1.LabelArchStable] != "arm64" || it.Labels[v1.InstanceCPULabel] != "2" {
			continue
		}
		for _, o := range it.Offerings {
			if o.CapacityType == "on-demand" && o.Price < cheapest {
				cheapest = o.Price
			}
		}
	}
	od, _ := catalogType(t, inst.Type).Price(region)
	if od != cheapest {
		t.Errorf("launched %s at %v, cheapest is %v", inst.Type, od, cheapest)
	}
}
