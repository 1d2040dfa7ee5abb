package simulate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/nodewright/nodewright/controller/scheduling"
)

// WriteBenchmarkWorkload writes the benchmark's synthetic workload as
// simulate input: pods.yaml (a List of n diverse pods) and catalog.json
// (the 400 synthetic instance types).
func WriteBenchmarkWorkload(dir string, n int) (podsFile, catalogFile string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	list := corev1.PodList{}
	list.APIVersion, list.Kind = "v1", "List"
	for _, p := range scheduling.DiversePods(n) {
		p.APIVersion, p.Kind = "v1", "Pod"
		list.Items = append(list.Items, *p)
	}
	data, err := yaml.Marshal(list)
	if err != nil {
		return "", "", err
	}
	podsFile = filepath.Join(dir, fmt.Sprintf("pods-%d.yaml", n))
	if err := os.WriteFile(podsFile, data, 0o644); err != nil {
		return "", "", err
	}
	var cat CatalogFile
	for _, it := range scheduling.SyntheticInstanceTypes(400) {
		cpu, mem, pods := it.Allocatable[corev1.ResourceCPU], it.Allocatable[corev1.ResourceMemory], it.Allocatable[corev1.ResourcePods]
		cat.InstanceTypes = append(cat.InstanceTypes, CatalogType{Name: it.Name, VCPU: float64(cpu.MilliValue()) / 1000,
			MemoryMiB: mem.Value() >> 20, Pods: pods.Value(), Arch: it.Labels[corev1.LabelArchStable], Offerings: it.Offerings})
	}
	data, err = json.MarshalIndent(cat, "", " ")
	if err != nil {
		return "", "", err
	}
	catalogFile = filepath.Join(dir, "catalog-400.json")
	return podsFile, catalogFile, os.WriteFile(catalogFile, data, 0o644)
}
