package simulate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/nodewright/nodewright/controller/engine/scheduling/workloads"
)

// WriteBenchmarkWorkload writes the benchmark's synthetic workload as
// simulate input: pods.yaml (a List of n diverse pods) and catalog.json
// (the 400 synthetic instance types).
func WriteBenchmarkWorkload(dir string, n int) (podsFile, catalogFile string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	podsFile = filepath.Join(dir, fmt.Sprintf("pods-%d.yaml", n))
	if err := writeWorkloadList(podsFile, workloads.DiversePods(n), nil); err != nil {
		return "", "", err
	}
	var cat CatalogFile
	for _, it := range workloads.SyntheticInstanceTypes(400) {
		cpu, mem, pods := it.Allocatable[corev1.ResourceCPU], it.Allocatable[corev1.ResourceMemory], it.Allocatable[corev1.ResourcePods]
		cat.InstanceTypes = append(cat.InstanceTypes, CatalogType{Name: it.Name, VCPU: float64(cpu.MilliValue()) / 1000,
			MemoryMiB: mem.Value() >> 20, Pods: pods.Value(), Arch: it.Labels[corev1.LabelArchStable], Offerings: it.Offerings})
	}
	data, err := json.MarshalIndent(cat, "", " ")
	if err != nil {
		return "", "", err
	}
	catalogFile = filepath.Join(dir, "catalog-400.json")
	if err := os.WriteFile(catalogFile, data, 0o644); err != nil {
		return "", "", fmt.Errorf("writing the benchmark catalog: %w", err)
	}
	return podsFile, catalogFile, nil
}

// WriteRealisticWorkload writes the realistic workload (see
// workloads.RealisticPods) as simulate input: realistic-<n>-seed<seed>.yaml,
// a List of its DaemonSets and n pods. It has no catalog file: it is meant
// for the embedded EC2 catalog, simulate's default.
func WriteRealisticWorkload(dir string, n int, seed uint64) (podsFile string, err error) {
	if n <= 0 {
		return "", fmt.Errorf("the realistic workload needs at least one pod, not %d", n)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	podsFile = filepath.Join(dir, fmt.Sprintf("realistic-%d-seed%d.yaml", n, seed))
	return podsFile, writeWorkloadList(podsFile, workloads.RealisticPods(n, seed), workloads.RealisticDaemonSets())
}

// writeWorkloadList writes daemonsets (as DaemonSets, from their pod templates) and
// pods as one `kind: List`, the way kubectl prints objects.
func writeWorkloadList(path string, pods, daemonSets []*corev1.Pod) error {
	list := struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Items      []any  `json:"items"`
	}{APIVersion: "v1", Kind: "List"}
	for _, t := range daemonSets {
		ds := appsv1.DaemonSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			ObjectMeta: metav1.ObjectMeta{Name: t.Name, Namespace: t.Namespace, Labels: t.Labels},
			Spec: appsv1.DaemonSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: t.Labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: t.Labels}, Spec: t.Spec},
			},
		}
		list.Items = append(list.Items, ds)
	}
	for _, p := range pods {
		p.APIVersion, p.Kind = "v1", "Pod"
		list.Items = append(list.Items, p)
	}
	data, err := yaml.Marshal(list)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing the workload: %w", err)
	}
	return nil
}
