// Package simulate is the offline front end of the scheduling engine: it
// reads pods, NodePools and a catalog from files, solves, and reports what
// nodewright would launch. `nodewright simulate` and the benchmarks use it.
package simulate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/engine/volumetopology"
	"github.com/nodewright/nodewright/controller/utils/volumes"
)

// Objects are what the input files hold, by kind.
type Objects struct {
	Pods        []*corev1.Pod
	DaemonSets  []*corev1.Pod // daemonset pod templates
	NodePools   []*v1.NodePool
	NodeClasses map[string]*v1.EC2NodeClass
	// Nodes, NodeClaims and PodDisruptionBudgets describe a running cluster
	// for `simulate --consolidate`.
	Nodes      []*corev1.Node
	NodeClaims []*v1.NodeClaim
	PDBs       []*policyv1.PodDisruptionBudget
	// CSINodes give existing nodes' attach limits, by node name.
	CSINodes map[string]*storagev1.CSINode
	// Volumes are the PersistentVolumeClaims, PersistentVolumes and
	// StorageClasses, which say where pods with claims may go.
	Volumes volumetopology.Objects
	// templateClaims are made from StatefulSets' claim templates; a claim
	// of the same name in the input wins.
	templateClaims []*corev1.PersistentVolumeClaim
}

// ReadFile decodes every object in a YAML (multi-document) or JSON file,
// including `kind: List` as `kubectl get -o yaml` prints it.
func ReadFile(path string, into *Objects) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := Read(f, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Read decodes objects from r.
func Read(r io.Reader, into *Objects) error {
	if into.NodeClasses == nil {
		into.NodeClasses = map[string]*v1.EC2NodeClass{}
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	for doc := 1; ; doc++ {
		var raw map[string]any
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
		if len(raw) == 0 {
			continue
		}
		if err := into.add(&unstructured.Unstructured{Object: raw}); err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
	}
}

func (o *Objects) add(u *unstructured.Unstructured) error {
	kind := u.GetKind()
	name := kind + " " + u.GetName()
	conv := func(out any) error {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, out, true); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	switch kind {
	case "List", "PodList", "DeploymentList", "NodePoolList", "NodeList", "NodeClaimList", "PodDisruptionBudgetList",
		"PersistentVolumeClaimList", "PersistentVolumeList", "StorageClassList", "CSINodeList":
		items, _, err := unstructured.NestedSlice(u.Object, "items")
		if err != nil {
			return err
		}
		for i, item := range items {
			m, ok := item.(map[string]any)
			if !ok {
				return fmt.Errorf("%s item %d is not an object", kind, i)
			}
			if err := o.add(&unstructured.Unstructured{Object: m}); err != nil {
				return err
			}
		}
	case "Pod":
		var p corev1.Pod
		if err := conv(&p); err != nil {
			return err
		}
		defaultNamespace(&p.ObjectMeta)
		o.Pods = append(o.Pods, &p)
	case "Deployment", "ReplicaSet", "StatefulSet":
		var d struct {
			metav1.ObjectMeta `json:"metadata"`
			Spec              struct {
				Replicas             *int32                         `json:"replicas"`
				Template             corev1.PodTemplateSpec         `json:"template"`
				VolumeClaimTemplates []corev1.PersistentVolumeClaim `json:"volumeClaimTemplates"`
			} `json:"spec"`
		}
		data, _ := json.Marshal(u.Object)
		if err := json.Unmarshal(data, &d); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		replicas := int32(1)
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		pods := expand(d.ObjectMeta, d.Spec.Template, int(replicas))
		for _, p := range pods {
			o.claimTemplates(p, d.Spec.VolumeClaimTemplates)
		}
		o.Pods = append(o.Pods, pods...)
	case "CSINode":
		var cn storagev1.CSINode
		if err := conv(&cn); err != nil {
			return err
		}
		if o.CSINodes == nil {
			o.CSINodes = map[string]*storagev1.CSINode{}
		}
		o.CSINodes[cn.Name] = &cn
	case "PersistentVolumeClaim", "PersistentVolume", "StorageClass":
		obj := map[string]any{"PersistentVolumeClaim": &corev1.PersistentVolumeClaim{},
			"PersistentVolume": &corev1.PersistentVolume{}, "StorageClass": &storagev1.StorageClass{}}[kind]
		if err := conv(obj); err != nil {
			return err
		}
		o.Volumes.Add(obj)
	case "Job":
		var j batchv1.Job
		if err := conv(&j); err != nil {
			return err
		}
		n := 1
		if j.Spec.Parallelism != nil {
			n = int(*j.Spec.Parallelism)
		}
		o.Pods = append(o.Pods, expand(j.ObjectMeta, j.Spec.Template, n)...)
	case "DaemonSet":
		var ds appsv1.DaemonSet
		if err := conv(&ds); err != nil {
			return err
		}
		pods := expand(ds.ObjectMeta, ds.Spec.Template, 1)
		o.DaemonSets = append(o.DaemonSets, pods...)
	case "NodePool":
		var np v1.NodePool
		if err := conv(&np); err != nil {
			return err
		}
		o.NodePools = append(o.NodePools, &np)
	case "Node":
		var n corev1.Node
		if err := conv(&n); err != nil {
			return err
		}
		o.Nodes = append(o.Nodes, &n)
	case "NodeClaim":
		var nc v1.NodeClaim
		if err := conv(&nc); err != nil {
			return err
		}
		o.NodeClaims = append(o.NodeClaims, &nc)
	case "PodDisruptionBudget":
		var pdb policyv1.PodDisruptionBudget
		if err := conv(&pdb); err != nil {
			return err
		}
		defaultNamespace(&pdb.ObjectMeta)
		o.PDBs = append(o.PDBs, &pdb)
	case "EC2NodeClass":
		var nc v1.EC2NodeClass
		if err := conv(&nc); err != nil {
			return err
		}
		o.NodeClasses[nc.Name] = &nc
	default:
		return fmt.Errorf("unsupported kind %q (%s): simulate reads Pods, Deployments, ReplicaSets, StatefulSets, Jobs, DaemonSets, NodePools, EC2NodeClasses, Nodes, NodeClaims, PodDisruptionBudgets, PersistentVolumeClaims, PersistentVolumes, StorageClasses and Lists of them", kind, u.GetAPIVersion())
	}
	return nil
}

// claimTemplates gives a StatefulSet's pod a volume for each claim
// template, naming the claim <template>-<pod> as the StatefulSet
// controller does, and keeps the claim the template makes (unbound, as
// the controller makes it) for volumeRequirements, where a claim of that
// name in the input wins.
func (o *Objects) claimTemplates(p *corev1.Pod, templates []corev1.PersistentVolumeClaim) {
	for _, t := range templates {
		claim := t.Name + "-" + p.Name
		p.Spec.Volumes = slices.DeleteFunc(p.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == t.Name })
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: t.Name,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
		made := t.DeepCopy()
		made.Name, made.Namespace = claim, p.Namespace
		o.templateClaims = append(o.templateClaims, made)
	}
}

func defaultNamespace(m *metav1.ObjectMeta) {
	if m.Namespace == "" {
		m.Namespace = "default"
	}
}

// expand makes n pods from a workload's template, named as its controller would.
func expand(owner metav1.ObjectMeta, tmpl corev1.PodTemplateSpec, n int) []*corev1.Pod {
	defaultNamespace(&owner)
	out := make([]*corev1.Pod, 0, n)
	for i := 0; i < n; i++ {
		p := &corev1.Pod{ObjectMeta: *tmpl.ObjectMeta.DeepCopy(), Spec: *tmpl.Spec.DeepCopy()}
		p.Name = fmt.Sprintf("%s-%d", owner.Name, i)
		p.Namespace = owner.Namespace
		out = append(out, p)
	}
	return out
}

// volumeRequirements works out where the pods' claims let them go, as the
// controller does (volumetopology), after completing the claims as the API
// server would: StatefulSets' template claims the input lacks are made,
// and a claim naming no class gets the default StorageClass (the
// DefaultStorageClass admission plugin). It returns the pods that can be
// placed, and those that wait, with why.
func (o *Objects) volumeRequirements(pending, bound []*corev1.Pod) ([]*corev1.Pod, volumetopology.Claims, []*scheduling.Unschedulable, error) {
	for _, c := range o.templateClaims {
		if found, _ := o.Volumes.Claim(c.Namespace, c.Name); found == nil {
			o.Volumes.Add(c)
		}
	}
	var defaultClass string
	for name, sc := range o.Volumes.Classes {
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" && (defaultClass == "" || name < defaultClass) {
			defaultClass = name
		}
	}
	for _, c := range o.Volumes.Claims {
		if c.Spec.StorageClassName == nil && c.Spec.VolumeName == "" && defaultClass != "" {
			c.Spec.StorageClassName = &defaultClass
		}
	}
	return volumetopology.Split(&o.Volumes, pending, bound)
}

// existing turns the Nodes read with --nodes into capacity a plan fills
// before it opens claims: each node's allocatable, labels and taints, with
// the pods bound to it (they use room and count for spread and affinity).
// Pods of a cordoned or deleting node only count; pods without a node are
// the ones to place. Pods bound to a node not in the input, and finished
// pods, are left out.
func (o *Objects) existing() (nodes []*scheduling.ExistingNode, pending, bound []*corev1.Pod, elsewhere []scheduling.PodOnDomain) {
	byName := map[string]*corev1.Node{}
	for _, n := range o.Nodes {
		byName[n.Name] = n
	}
	podsOn := map[string][]*corev1.Pod{}
	for _, p := range o.Pods {
		switch {
		case p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed:
		case p.Spec.NodeName == "":
			pending = append(pending, p)
		case byName[p.Spec.NodeName] != nil:
			podsOn[p.Spec.NodeName] = append(podsOn[p.Spec.NodeName], p)
			bound = append(bound, p)
		}
	}
	for _, n := range o.Nodes {
		if n.Spec.Unschedulable || n.DeletionTimestamp != nil {
			for _, p := range podsOn[n.Name] {
				elsewhere = append(elsewhere, scheduling.PodOnDomain{Pod: p, NodeLabels: n.Labels})
			}
			continue
		}
		alloc := n.Status.Allocatable
		if cn := o.CSINodes[n.Name]; cn != nil {
			alloc = alloc.DeepCopy()
			maps.Copy(alloc, volumes.CSINodeLimits(cn))
		}
		nodes = append(nodes, &scheduling.ExistingNode{Name: n.Name, Labels: n.Labels, Taints: n.Spec.Taints,
			Allocatable: alloc, Pods: podsOn[n.Name], NodePool: n.Labels[v1.NodePoolLabelKey]})
	}
	return nodes, pending, bound, elsewhere
}
