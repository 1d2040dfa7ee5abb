package v1_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

func hashPool() *v1.NodePool {
	np := &v1.NodePool{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	np.Spec.Template.ObjectMeta.Labels = map[string]string{"team": "a", "tier": "web", "env": "prod"}
	np.Spec.Template.ObjectMeta.Annotations = map[string]string{"x": "1", "y": "2"}
	np.Spec.Template.Spec = v1.NodeClaimTemplateSpec{
		Requirements: []v1.NodeSelectorRequirementWithMinValues{
			{Key: corev1.LabelArchStable, Operator: corev1.NodeSelectorOpIn, Values: []string{"amd64", "arm64"}},
			{Key: v1.CapacityTypeLabelKey, Operator: corev1.NodeSelectorOpIn, Values: []string{"spot"}},
		},
		Taints:       []corev1.Taint{{Key: "a", Effect: corev1.TaintEffectNoSchedule}, {Key: "b", Effect: corev1.TaintEffectNoExecute}},
		NodeClassRef: &v1.NodeClassReference{Group: v1.Group, Kind: "EC2NodeClass", Name: "default"},
		ExpireAfter:  "720h",
	}
	return np
}

func TestNodePoolHash(t *testing.T) {
	base := hashPool().Hash()
	if len(base) != 16 {
		t.Fatalf("Hash() = %q, want 16 hex characters", base)
	}
	for i := 0; i < 20; i++ {
		// Fresh maps each time: Go randomises their iteration order.
		if h := hashPool().Hash(); h != base {
			t.Fatalf("Hash() unstable across map order: %s then %s", base, h)
		}
	}

	same := map[string]func(np *v1.NodePool){
		"values reordered": func(np *v1.NodePool) {
			np.Spec.Template.Spec.Requirements[0].Values = []string{"arm64", "amd64"}
		},
		"requirements reordered": func(np *v1.NodePool) {
			r := np.Spec.Template.Spec.Requirements
			r[0], r[1] = r[1], r[0]
		},
		"taints reordered": func(np *v1.NodePool) {
			tt := np.Spec.Template.Spec.Taints
			tt[0], tt[1] = tt[1], tt[0]
		},
		// Requirements are judged from each claim's labels, not by the hash.
		"requirement value": func(np *v1.NodePool) { np.Spec.Template.Spec.Requirements[1].Values = []string{"on-demand"} },
		"requirement added": func(np *v1.NodePool) {
			np.Spec.Template.Spec.Requirements = append(np.Spec.Template.Spec.Requirements,
				v1.NodeSelectorRequirementWithMinValues{Key: corev1.LabelTopologyZone, Operator: corev1.NodeSelectorOpExists})
		},
		"minValues": func(np *v1.NodePool) {
			n := 2
			np.Spec.Template.Spec.Requirements[0].MinValues = &n
		},
		"expireAfter": func(np *v1.NodePool) { np.Spec.Template.Spec.ExpireAfter = v1.Never },
		"terminationGracePeriod": func(np *v1.NodePool) {
			np.Spec.Template.Spec.TerminationGracePeriod = &metav1.Duration{Duration: time.Hour}
		},
		"weight":     func(np *v1.NodePool) { w := int32(5); np.Spec.Weight = &w },
		"disruption": func(np *v1.NodePool) { np.Spec.Disruption.ConsolidateAfter = "5m" },
		// A cost only changes how nodewright weighs nodes, not the nodes.
		"costPerNodeHour": func(np *v1.NodePool) { np.Spec.CostPerNodeHour = "0.012" },
	}
	for name, mutate := range same {
		np := hashPool()
		mutate(np)
		if h := np.Hash(); h != base {
			t.Errorf("%s: hash changed from %s to %s, want no drift", name, base, h)
		}
	}

	// An empty map and a missing one mean the same to a node.
	empty, missing := hashPool(), hashPool()
	empty.Spec.Template.ObjectMeta.Annotations = map[string]string{}
	missing.Spec.Template.ObjectMeta.Annotations = nil
	if empty.Hash() != missing.Hash() {
		t.Error("empty and missing annotations hash differently")
	}

	changed := map[string]func(np *v1.NodePool){
		"label":        func(np *v1.NodePool) { np.Spec.Template.ObjectMeta.Labels["team"] = "b" },
		"annotation":   func(np *v1.NodePool) { delete(np.Spec.Template.ObjectMeta.Annotations, "x") },
		"taint effect": func(np *v1.NodePool) { np.Spec.Template.Spec.Taints[0].Effect = corev1.TaintEffectPreferNoSchedule },
		"startup taint": func(np *v1.NodePool) {
			np.Spec.Template.Spec.StartupTaints = []corev1.Taint{{Key: "cni", Effect: corev1.TaintEffectNoSchedule}}
		},
		"node class": func(np *v1.NodePool) { np.Spec.Template.Spec.NodeClassRef.Name = "other" },
	}
	seen := map[string]string{}
	for name, mutate := range changed {
		np := hashPool()
		mutate(np)
		h := np.Hash()
		if h == base {
			t.Errorf("%s: hash unchanged, want drift", name)
		}
		if other, ok := seen[h]; ok {
			t.Errorf("%s and %s hash alike (%s)", name, other, h)
		}
		seen[h] = name
	}
}

func TestNillableDuration(t *testing.T) {
	for in, want := range map[v1.NillableDuration]struct {
		d  time.Duration
		ok bool
	}{
		"720h":   {720 * time.Hour, true},
		"1h30m":  {90 * time.Minute, true},
		"0s":     {0, true},
		v1.Never: {0, false},
		"":       {0, false},
		"junk":   {0, false},
	} {
		d, ok := in.Duration()
		if d != want.d || ok != want.ok {
			t.Errorf("%q.Duration() = %v, %v; want %v, %v", in, d, ok, want.d, want.ok)
		}
	}
}

func TestNodeClaimConditions(t *testing.T) {
	nc := &v1.NodeClaim{ObjectMeta: metav1.ObjectMeta{Generation: 3}}
	if nc.IsTrue(v1.ConditionTypeLaunched) {
		t.Fatal("Launched true before being set")
	}
	if !nc.SetCondition(v1.ConditionTypeLaunched, metav1.ConditionTrue, "", "") {
		t.Fatal("SetCondition reported no change for a new condition")
	}
	c := nc.GetCondition(v1.ConditionTypeLaunched)
	if c == nil || c.Reason != v1.ConditionTypeLaunched || c.ObservedGeneration != 3 || c.LastTransitionTime.IsZero() {
		t.Fatalf("condition = %+v, want reason Launched, generation 3, a transition time", c)
	}
	if !nc.IsTrue(v1.ConditionTypeLaunched) {
		t.Fatal("Launched not true")
	}
	if nc.SetCondition(v1.ConditionTypeLaunched, metav1.ConditionTrue, "", "") {
		t.Error("setting the same condition again reported a change")
	}
	nc.SetCondition(v1.ConditionTypeLaunched, metav1.ConditionFalse, "InsufficientCapacity", "no spot")
	if nc.IsTrue(v1.ConditionTypeLaunched) || len(nc.Status.Conditions) != 1 {
		t.Fatalf("conditions = %+v, want one False Launched", nc.Status.Conditions)
	}
}

func hashNodeClass() *v1.EC2NodeClass {
	nc := &v1.EC2NodeClass{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	nc.Spec = v1.EC2NodeClassSpec{
		SubnetSelectorTerms:        []v1.SubnetSelectorTerm{{Tags: map[string]string{"k": "v"}}},
		SecurityGroupSelectorTerms: []v1.SecurityGroupSelectorTerm{{Tags: map[string]string{"k": "v"}}},
		AMISelectorTerms:           []v1.AMISelectorTerm{{Alias: "al2023@latest"}},
		Role:                       "nodes",
		Tags:                       map[string]string{"team": "a", "env": "prod", "tier": "web"},
		Kubelet:                    &v1.KubeletConfiguration{SystemReserved: map[string]string{"cpu": "100m", "memory": "100Mi"}},
	}
	return nc
}

func TestEC2NodeClassHash(t *testing.T) {
	base := hashNodeClass().Hash()
	if len(base) != 16 {
		t.Fatalf("Hash() = %q, want 16 hex characters", base)
	}
	for i := 0; i < 20; i++ {
		if h := hashNodeClass().Hash(); h != base {
			t.Fatalf("Hash() unstable across map order: %s then %s", base, h)
		}
	}
	// What the selectors pick is drift-checked through the status, per claim.
	same := map[string]func(nc *v1.EC2NodeClass){
		"subnet selector":         func(nc *v1.EC2NodeClass) { nc.Spec.SubnetSelectorTerms[0].Tags["k"] = "w" },
		"security group selector": func(nc *v1.EC2NodeClass) { nc.Spec.SecurityGroupSelectorTerms[0].ID = "sg-1" },
		"AMI selector":            func(nc *v1.EC2NodeClass) { nc.Spec.AMISelectorTerms[0].Alias = "al2023@v20260101" },
		"status": func(nc *v1.EC2NodeClass) {
			nc.Status.Subnets = []v1.Subnet{{ID: "subnet-1", Zone: "us-east-1a"}}
		},
	}
	for name, mutate := range same {
		nc := hashNodeClass()
		mutate(nc)
		if h := nc.Hash(); h != base {
			t.Errorf("%s: hash changed from %s to %s, want no drift", name, base, h)
		}
	}
	family, data, profile := "Bottlerocket", "#!/bin/bash\necho hi", "custom-profile"
	changed := map[string]func(nc *v1.EC2NodeClass){
		"AMI family":       func(nc *v1.EC2NodeClass) { nc.Spec.AMIFamily = &family },
		"role":             func(nc *v1.EC2NodeClass) { nc.Spec.Role = "other" },
		"instance profile": func(nc *v1.EC2NodeClass) { nc.Spec.Role, nc.Spec.InstanceProfile = "", &profile },
		"user data":        func(nc *v1.EC2NodeClass) { nc.Spec.UserData = &data },
		"tag":              func(nc *v1.EC2NodeClass) { nc.Spec.Tags["team"] = "b" },
		"kubelet":          func(nc *v1.EC2NodeClass) { nc.Spec.Kubelet.SystemReserved["cpu"] = "200m" },
		"block devices": func(nc *v1.EC2NodeClass) {
			dev := "/dev/xvda"
			nc.Spec.BlockDeviceMappings = []v1.BlockDeviceMapping{{DeviceName: &dev}}
		},
		"metadata options": func(nc *v1.EC2NodeClass) {
			tokens := "optional"
			nc.Spec.MetadataOptions = &v1.MetadataOptions{HTTPTokens: &tokens}
		},
	}
	seen := map[string]string{}
	for name, mutate := range changed {
		nc := hashNodeClass()
		mutate(nc)
		h := nc.Hash()
		if h == base {
			t.Errorf("%s: hash unchanged, want drift", name)
		}
		if other, ok := seen[h]; ok {
			t.Errorf("%s and %s hash the same", name, other)
		}
		seen[h] = name
	}
}

// TestEC2NodeClassHashKubeletFields: every kubelet field reaches the node,
// so changing any one of them must drift the node class's claims.
func TestEC2NodeClassHashKubeletFields(t *testing.T) {
	base := hashNodeClass().Hash()
	n := func(v int32) *int32 { return &v }
	quota := false
	for name, mutate := range map[string]func(k *v1.KubeletConfiguration){
		"clusterDNS":                  func(k *v1.KubeletConfiguration) { k.ClusterDNS = []string{"10.96.0.10"} },
		"maxPods":                     func(k *v1.KubeletConfiguration) { k.MaxPods = n(20) },
		"podsPerCore":                 func(k *v1.KubeletConfiguration) { k.PodsPerCore = n(5) },
		"systemReserved":              func(k *v1.KubeletConfiguration) { k.SystemReserved["memory"] = "200Mi" },
		"kubeReserved":                func(k *v1.KubeletConfiguration) { k.KubeReserved = map[string]string{"cpu": "100m"} },
		"evictionHard":                func(k *v1.KubeletConfiguration) { k.EvictionHard = map[string]string{"memory.available": "5%"} },
		"evictionSoft":                func(k *v1.KubeletConfiguration) { k.EvictionSoft = map[string]string{"memory.available": "5%"} },
		"evictionMaxPodGracePeriod":   func(k *v1.KubeletConfiguration) { k.EvictionMaxPodGracePeriod = n(30) },
		"imageGCHighThresholdPercent": func(k *v1.KubeletConfiguration) { k.ImageGCHighThresholdPercent = n(90) },
		"imageGCLowThresholdPercent":  func(k *v1.KubeletConfiguration) { k.ImageGCLowThresholdPercent = n(60) },
		"cpuCFSQuota":                 func(k *v1.KubeletConfiguration) { k.CPUCFSQuota = &quota },
		"evictionSoftGracePeriod": func(k *v1.KubeletConfiguration) {
			k.EvictionSoftGracePeriod = map[string]metav1.Duration{"memory.available": {Duration: time.Minute}}
		},
	} {
		nc := hashNodeClass()
		mutate(nc.Spec.Kubelet)
		if h := nc.Hash(); h == base {
			t.Errorf("kubelet.%s: hash unchanged, want drift", name)
		}
	}
}
