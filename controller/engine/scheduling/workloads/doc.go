// Package workloads generates the scheduling engine's benchmark inputs:
// Karpenter's synthetic benchmark (SyntheticInstanceTypes, DiversePods), a
// running cluster for consolidation (SyntheticCluster) and a cluster-shaped
// realistic workload (RealisticPods, RealisticDaemonSets). Every generator
// is deterministic for a seed, so benchmark figures compare across runs.
//
// It is a package of its own, not _test files, because `nodewright
// simulate` writes these workloads out and test/benchvs compares engines
// on them; it is not part of the engine's API because the engine never
// uses them.
package workloads
