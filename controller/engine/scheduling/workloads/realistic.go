package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The realistic workload is what a real EKS cluster's pending pods look
// like, unlike DiversePods (which mirrors Karpenter's benchmark so the two
// engines can be compared): a few hundred Deployments and StatefulSets with
// heavy-tailed replica counts, shared shapes within a workload, sidecars and
// init containers, a minority of pods with arch selectors, GPUs, zonal
// spread or (anti-)affinity.

// Shares of workloads (not pods) that carry each trait. Spread, affinity and
// anti-affinity select on the workload's own app label.
const (
	realisticPodsPerWorkload = 15
	realisticStatefulShare   = 0.12
	realisticGPUShare        = 0.03
	realisticSpreadShare     = 0.10
	realisticAntiShare       = 0.04 // only workloads of at most realisticAntiMax replicas
	realisticAffinityShare   = 0.03 // never together with spread: maxSkew 1 forbids one zone
	realisticArm64Share      = 0.10
	realisticAmd64Share      = 0.15
	realisticAntiMax         = 12
	// Replica weights are log-normal (median e^1.4 ≈ 4, mean ≈ 15 before
	// clamping): most workloads have 1-5 replicas, one in twenty over 50.
	realisticReplicaMu, realisticReplicaSigma = 1.4, 1.6
	realisticMaxWeight                        = 260
	realisticMinMemMi, realisticMaxMemMi      = 64, 32 << 10
)

// Per-pod CPU of a workload's main container, weighted towards small pods;
// memory is that CPU times one of realisticRatios GiB per vCPU.
var (
	realisticCPUs        = []int64{50, 100, 250, 500, 1000, 2000, 4000, 8000}
	realisticCPUWeights  = []float64{10, 15, 20, 20, 15, 10, 6, 4}
	realisticRatios      = []int64{1, 2, 4, 8}
	realisticRatioWeight = []float64{15, 35, 35, 15}
	// Stateful workloads (databases, queues, caches) lean to memory.
	realisticStatefulRatioWeight = []float64{5, 20, 40, 35}
	realisticGPUCPUs             = []int64{1000, 2000, 3000}
)

var (
	realisticNamespaces = []string{"shop", "payments", "search", "identity", "data", "ml", "platform", "ads"}
	realisticRoles      = []string{"api", "web", "worker", "gateway", "cart", "checkout", "catalog", "auth", "notifier", "indexer", "scheduler", "billing", "feed", "media", "ingest"}
	realisticStateful   = []string{"postgres", "redis", "kafka", "elasticsearch", "zookeeper", "rabbitmq", "mongodb", "etcd"}
	realisticGPURoles   = []string{"inference", "embedder", "trainer"}
)

// Sidecar requests. istio-proxy is Istio's default injected proxy request
// (istio/istio manifests/charts/istio-control/istio-discovery/values.yaml
// @007204dbcbeaf69229401aa9b045b11b4d039107, global.proxy.resources).
var (
	istioProxyRequests = realisticRequests(100, 128)
	logForwarderReqs   = realisticRequests(50, 64)
)

// realisticApp is one Deployment or StatefulSet: all its replicas share a
// template.
type realisticApp struct {
	name, namespace string
	stateful        bool
	replicas        int
	labels          map[string]string
	owner           metav1.OwnerReference
	spec            corev1.PodSpec
}

// RealisticPods returns n pending pods shaped like a real cluster's, the
// same for the same n and seed. About n/15 workloads share the n pods in
// proportion to heavy-tailed weights, so a bigger n means both more
// workloads and proportionally bigger ones, never a truncated list: the
// generator is seeded with n as well as seed. See the constants above for
// the share of each trait. Deployment pods are owned by a ReplicaSet
// <app>-<hash>, StatefulSet pods by the StatefulSet; pods are named
// <app>-<i>.
func RealisticPods(n int, seed uint64) []*corev1.Pod {
	if n <= 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	apps := make([]*realisticApp, max(1, int(math.Round(float64(n)/realisticPodsPerWorkload))))
	weights := make([]float64, len(apps))
	for i := range weights {
		weights[i] = min(max(math.Exp(realisticReplicaMu+realisticReplicaSigma*r.NormFloat64()), 1), realisticMaxWeight)
	}
	replicas := apportion(n, weights)
	for i := range apps {
		apps[i] = newRealisticApp(r, i, replicas[i])
	}
	pods := make([]*corev1.Pod, 0, n)
	for _, a := range apps {
		for j := 0; j < a.replicas; j++ {
			p := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{
					Name: fmt.Sprintf("%s-%d", a.name, j), Namespace: a.namespace,
					Labels: map[string]string{}, OwnerReferences: []metav1.OwnerReference{a.owner},
				},
				Spec: *a.spec.DeepCopy(),
			}
			for k, v := range a.labels {
				p.Labels[k] = v
			}
			if a.stateful {
				p.Labels["statefulset.kubernetes.io/pod-name"] = p.Name
				p.Spec.Hostname = p.Name
			}
			pods = append(pods, p)
		}
	}
	return pods
}

// apportion splits n into len(weights) parts of at least 1 in proportion to
// weights, by largest remainder; n must be at least len(weights).
func apportion(n int, weights []float64) []int {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	// Give every part its 1 first, then share the rest by weight.
	rest := n - len(weights)
	out := make([]int, len(weights))
	frac := make([]float64, len(weights))
	given := 0
	for i, w := range weights {
		exact := float64(rest) * w / sum
		out[i] = 1 + int(exact)
		frac[i] = exact - math.Floor(exact)
		given += int(exact)
	}
	for ; given < rest; given++ {
		best := 0
		for i := range frac {
			if frac[i] > frac[best] {
				best = i
			}
		}
		out[best]++
		frac[best] = -1
	}
	return out
}

func newRealisticApp(r *rand.Rand, idx, replicas int) *realisticApp {
	a := &realisticApp{namespace: realisticNamespaces[r.IntN(len(realisticNamespaces))], replicas: replicas}
	gpu := r.Float64() < realisticGPUShare
	a.stateful = !gpu && r.Float64() < realisticStatefulShare
	switch {
	case gpu:
		a.name = fmt.Sprintf("%s-%d", realisticGPURoles[r.IntN(len(realisticGPURoles))], idx)
	case a.stateful:
		a.name = fmt.Sprintf("%s-%d", realisticStateful[r.IntN(len(realisticStateful))], idx)
	default:
		a.name = fmt.Sprintf("%s-%d", realisticRoles[r.IntN(len(realisticRoles))], idx)
	}
	a.labels = map[string]string{"app": a.name, "app.kubernetes.io/name": a.name}
	uid := realisticUID(r)
	hash := realisticHash(r)
	t := true
	if a.stateful {
		a.labels["controller-revision-hash"] = a.name + "-" + hash
		a.owner = metav1.OwnerReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: a.name, UID: uid, Controller: &t, BlockOwnerDeletion: &t}
	} else {
		a.labels["pod-template-hash"] = hash
		a.owner = metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: a.name + "-" + hash, UID: uid, Controller: &t, BlockOwnerDeletion: &t}
	}

	var cpuM, memMi int64
	if gpu {
		cpuM = realisticGPUCPUs[r.IntN(len(realisticGPUCPUs))]
		memMi = cpuM * 4 * 1024 / 1000
	} else {
		cpuM = realisticCPUs[realisticPick(r, realisticCPUWeights)]
		ratios := realisticRatioWeight
		if a.stateful {
			ratios = realisticStatefulRatioWeight
		}
		memMi = min(max((cpuM*realisticRatios[realisticPick(r, ratios)]*1024+999)/1000, realisticMinMemMi), realisticMaxMemMi)
	}
	app := corev1.Container{Name: "app", Image: "registry.example.com/" + a.name + ":1.0", Resources: corev1.ResourceRequirements{Requests: realisticRequests(cpuM, memMi)}}
	if gpu {
		one := *resource.NewQuantity(1, resource.DecimalSI)
		app.Resources.Requests[nvidiaGPU] = one
		app.Resources.Limits = corev1.ResourceList{nvidiaGPU: one}
		a.spec.Tolerations = []corev1.Toleration{{Key: string(nvidiaGPU), Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	}
	a.spec.Containers = []corev1.Container{app}
	addRealisticContainers(r, &a.spec, cpuM, memMi, gpu)

	// Arch: GPU images are left free; the catalog decides.
	if !gpu {
		switch x := r.Float64(); {
		case x < realisticArm64Share:
			a.spec.NodeSelector = map[string]string{corev1.LabelArchStable: "arm64"}
		case x < realisticArm64Share+realisticAmd64Share:
			a.spec.NodeSelector = map[string]string{corev1.LabelArchStable: "amd64"}
		}
	}
	self := &metav1.LabelSelector{MatchLabels: map[string]string{"app": a.name}}
	spread := r.Float64() < realisticSpreadShare
	if spread {
		a.spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone, WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: self,
		}}
	}
	if r.Float64() < realisticAntiShare && replicas <= realisticAntiMax {
		a.spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			TopologyKey: corev1.LabelHostname, LabelSelector: self,
		}}}}
	}
	if r.Float64() < realisticAffinityShare && !spread {
		if a.spec.Affinity == nil {
			a.spec.Affinity = &corev1.Affinity{}
		}
		a.spec.Affinity.PodAffinity = &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			TopologyKey: corev1.LabelTopologyZone, LabelSelector: self,
		}}}
	}
	return a
}

// nvidiaGPU is the extended resource NVIDIA's device plugin advertises.
const nvidiaGPU corev1.ResourceName = "nvidia.com/gpu"

// addRealisticContainers adds sidecars and init containers to small and
// medium pods: big pods (databases, batch) rarely carry a mesh proxy. Init
// containers sometimes request more than the containers together, so that
// the pod's request is the init container's (kubelet takes the max of the
// largest init container and the sum of the containers plus sidecars;
// k8s.io/component-helpers/resource PodRequests).
func addRealisticContainers(r *rand.Rand, spec *corev1.PodSpec, cpuM, memMi int64, gpu bool) {
	if gpu || cpuM > 2000 {
		if r.Float64() < 0.15 {
			spec.InitContainers = append(spec.InitContainers, realisticInit("fetch-model", realisticRequests(250, 256)))
		}
		return
	}
	sidecars := 0
	switch x := r.Float64(); {
	case x < 0.30:
		sidecars = 1
	case x < 0.40:
		sidecars = 2
	}
	native := sidecars > 0 && r.Float64() < 0.25
	if sidecars >= 1 {
		proxy := corev1.Container{Name: "istio-proxy", Image: "docker.io/istio/proxyv2:1.24.0", Resources: corev1.ResourceRequirements{Requests: istioProxyRequests.DeepCopy()}}
		if native {
			// A native sidecar (Kubernetes 1.29+): a restartable init
			// container whose requests add to the containers'.
			always := corev1.ContainerRestartPolicyAlways
			proxy.RestartPolicy = &always
			spec.InitContainers = append(spec.InitContainers, proxy)
		} else {
			spec.Containers = append(spec.Containers, proxy)
		}
	}
	if sidecars >= 2 {
		spec.Containers = append(spec.Containers, corev1.Container{Name: "log-forwarder", Image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0",
			Resources: corev1.ResourceRequirements{Requests: logForwarderReqs.DeepCopy()}})
	}
	if r.Float64() < 0.20 {
		if r.Float64() < 0.5 {
			// A migration or warm-up step bigger than the app itself.
			spec.InitContainers = append(spec.InitContainers, realisticInit("migrate", realisticRequests(min(2*cpuM+250, 2000), min(2*memMi+256, 4096))))
		} else {
			spec.InitContainers = append(spec.InitContainers, realisticInit("fetch-config", realisticRequests(50, 64)))
		}
	}
}

func realisticInit(name string, reqs corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Image: "registry.example.com/tools:1.0", Resources: corev1.ResourceRequirements{Requests: reqs}}
}

func realisticRequests(cpuM, memMi int64) corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewMilliQuantity(cpuM, resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(memMi<<20, resource.BinarySI),
	}
}

// realisticPick returns an index drawn in proportion to weights.
func realisticPick(r *rand.Rand, weights []float64) int {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	x := r.Float64() * sum
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// realisticHash looks like a pod-template-hash: 10 characters of the
// alphabet Kubernetes' SafeEncodeString uses (no vowels, no look-alikes).
func realisticHash(r *rand.Rand) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 10)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func realisticUID(r *rand.Rand) types.UID {
	hi, lo := r.Uint64(), r.Uint64()
	return types.UID(fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", hi>>32, (hi>>16)&0xffff, hi&0xfff, 0x8000|(lo>>48)&0x3fff, lo&0xffffffffffff))
}

// RealisticDaemonSets are the pod templates of the DaemonSets a typical EKS
// node runs, with their charts' default requests (185m CPU and 90Mi per
// node in all):
//   - aws-node (VPC CNI) 25m: aws/amazon-vpc-cni-k8s charts/aws-vpc-cni/values.yaml
//     @10e9f18d4d5b2cf7aaaac7d765e787af8af2a6f3;
//   - kube-proxy 100m and no memory request, as the EKS add-on ships it
//     (aws/containers-roadmap#1509);
//   - ebs-csi-node 10m/40Mi on its plugin container, its sidecars unset, and
//     not on a1 types: kubernetes-sigs/aws-ebs-csi-driver
//     charts/aws-ebs-csi-driver/values.yaml @da0df42aa1399bf58af39034eb4207c9ad9ef315;
//   - fluent-bit 50m/50Mi: aws/eks-charts stable/aws-for-fluent-bit/values.yaml
//     @011c04a145aee9787dfd095685618127f24f01ad.
func RealisticDaemonSets() []*corev1.Pod {
	ds := func(name string, containers []corev1.Container, affinity *corev1.Affinity) *corev1.Pod {
		t := true
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system", Labels: map[string]string{"k8s-app": name},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: name, UID: types.UID("00000000-0000-4000-8000-" + fmt.Sprintf("%012x", len(name))), Controller: &t}}},
			Spec: corev1.PodSpec{Containers: containers, Affinity: affinity, PriorityClassName: "system-node-critical",
				Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}}},
		}
	}
	c := func(name string, reqs corev1.ResourceList) corev1.Container {
		return corev1.Container{Name: name, Image: "registry.example.com/" + name + ":1.0", Resources: corev1.ResourceRequirements{Requests: reqs}}
	}
	cpuOnly := func(m int64) corev1.ResourceList {
		return corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(m, resource.DecimalSI)}
	}
	notA1 := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{
			Key: corev1.LabelInstanceTypeStable, Operator: corev1.NodeSelectorOpNotIn,
			Values: []string{"a1.medium", "a1.large", "a1.xlarge", "a1.2xlarge", "a1.4xlarge"},
		}}}},
	}}}
	return []*corev1.Pod{
		ds("aws-node", []corev1.Container{c("aws-node", cpuOnly(25))}, nil),
		ds("kube-proxy", []corev1.Container{c("kube-proxy", cpuOnly(100))}, nil),
		ds("ebs-csi-node", []corev1.Container{c("ebs-plugin", realisticRequests(10, 40)), c("node-driver-registrar", nil), c("liveness-probe", nil)}, notA1),
		ds("fluent-bit", []corev1.Container{c("fluent-bit", realisticRequests(50, 50))}, nil),
	}
}
