// Package options holds the controller's settings. Each one is a flag with
// an environment-variable fallback named as Karpenter users know them
// (CLUSTER_NAME, CLUSTER_ENDPOINT, INTERRUPTION_QUEUE, ...); AWS_* and
// KUBECONFIG are read by the SDK and client-go themselves.
package options

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Options configure `nodewright controller`.
type Options struct {
	ClusterName       string
	ClusterEndpoint   string
	ClusterCABundle   string
	InterruptionQueue string
	// RebalancePolicy is what a rebalance recommendation does: Replace, Cordon or Ignore.
	RebalancePolicy string
	// InterruptionDrainFraction is the share of an interruption's warning
	// (2 minutes for spot) after which the node is drained even if its
	// replacement has not launched. In (0, 1].
	InterruptionDrainFraction float64

	BatchIdleDuration time.Duration
	BatchMaxDuration  time.Duration

	LaunchTimeout       time.Duration
	RegistrationTimeout time.Duration
	ICETTL              time.Duration

	DisruptionValidationDelay    time.Duration
	DisruptionReplacementTimeout time.Duration
	DisruptionInterval           time.Duration

	// RepairPolicies lists the node conditions that get a Node repaired
	// (its NodeClaim deleted) once they have lasted their toleration, as
	// Type=Status:toleration separated by commas; empty turns repair off.
	RepairPolicies string

	// KubeClientQPS and KubeClientBurst pace the controller's requests to
	// the apiserver; client-go's defaults (5/10, or controller-runtime's
	// 20/30) made a batch of a thousand pods wait 40 s on its own patches.
	KubeClientQPS   int
	KubeClientBurst int

	LogLevel    string
	MetricsPort int
	// EnableProfiling serves Go's pprof handlers under /debug/pprof/ on the
	// metrics port, for a user asking where the controller's CPU or memory
	// goes.
	EnableProfiling bool
	// MemoryLimit is the container's memory limit in bytes (the Deployment
	// passes limits.memory through the downward API); the Go runtime's soft
	// limit is set to 90% of it, so the heap is collected harder before the
	// kernel kills the process. Zero or less leaves the runtime alone.
	MemoryLimit     int
	HealthProbePort int

	LeaderElection          bool
	LeaderElectionNamespace string

	// RecordSolves, when set, is a directory where every provisioning
	// batch's solve is written as `nodewright simulate` input.
	RecordSolves string
}

// AddFlags registers every setting on fs. Each flag's default is its
// environment variable when set, else the built-in default, so a flag on
// the command line beats the environment, which beats the default.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	str := func(p *string, name, env, def, help string) {
		fs.StringVar(p, name, envOr(env, def), fmt.Sprintf("%s (env %s)", help, env))
	}
	dur := func(p *time.Duration, name, env string, def time.Duration, help string) {
		d := def
		if v, ok := os.LookupEnv(env); ok {
			if parsed, err := time.ParseDuration(v); err == nil {
				d = parsed
			} else {
				envErrors = append(envErrors, fmt.Errorf("%s=%q is not a duration (e.g. 10s, 5m): %v", env, v, err))
			}
		}
		fs.DurationVar(p, name, d, fmt.Sprintf("%s (env %s)", help, env))
	}
	num := func(p *int, name, env string, def int, help string) {
		n := def
		if v, ok := os.LookupEnv(env); ok {
			if parsed, err := strconv.Atoi(v); err == nil {
				n = parsed
			} else {
				envErrors = append(envErrors, fmt.Errorf("%s=%q is not an integer", env, v))
			}
		}
		fs.IntVar(p, name, n, fmt.Sprintf("%s (env %s)", help, env))
	}
	fraction := func(p *float64, name, env string, def float64, help string) {
		f := def
		if v, ok := os.LookupEnv(env); ok {
			if parsed, err := strconv.ParseFloat(v, 64); err == nil {
				f = parsed
			} else {
				envErrors = append(envErrors, fmt.Errorf("%s=%q is not a number (e.g. 0.5)", env, v))
			}
		}
		fs.Float64Var(p, name, f, fmt.Sprintf("%s (env %s)", help, env))
	}
	boolean := func(p *bool, name, env string, def bool, help string) {
		b := def
		if v, ok := os.LookupEnv(env); ok {
			if parsed, err := strconv.ParseBool(v); err == nil {
				b = parsed
			} else {
				envErrors = append(envErrors, fmt.Errorf("%s=%q is not a boolean", env, v))
			}
		}
		fs.BoolVar(p, name, b, fmt.Sprintf("%s (env %s)", help, env))
	}
	envErrors = nil
	str(&o.ClusterName, "cluster-name", "CLUSTER_NAME", "", "EKS cluster name: tags, discovery and node bootstrap (required)")
	str(&o.ClusterEndpoint, "cluster-endpoint", "CLUSTER_ENDPOINT", "", "Kubernetes API endpoint nodes join; looked up with eks:DescribeCluster when empty")
	str(&o.ClusterCABundle, "cluster-ca-bundle", "CLUSTER_CA_BUNDLE", "", "base64 cluster CA for node bootstrap; looked up with eks:DescribeCluster when empty")
	str(&o.InterruptionQueue, "interruption-queue", "INTERRUPTION_QUEUE", "", "SQS queue name of spot interruption and rebalance events; empty turns interruption handling off")
	str(&o.RebalancePolicy, "rebalance-policy", "REBALANCE_POLICY", "Replace", "what a rebalance recommendation does: Replace (within the disruption budget), Cordon or Ignore")
	fraction(&o.InterruptionDrainFraction, "interruption-drain-fraction", "INTERRUPTION_DRAIN_FRACTION", 0.5,
		"share of an interruption warning after which the node is drained even if its replacement has not launched, in (0, 1]")
	dur(&o.BatchIdleDuration, "batch-idle-duration", "BATCH_IDLE_DURATION", time.Second, "a provisioning batch closes after this long without new pending pods")
	dur(&o.BatchMaxDuration, "batch-max-duration", "BATCH_MAX_DURATION", 10*time.Second, "a provisioning batch closes after this long in any case")
	dur(&o.LaunchTimeout, "launch-timeout", "LAUNCH_TIMEOUT", 5*time.Minute, "a NodeClaim not launched by then is deleted")
	dur(&o.RegistrationTimeout, "registration-timeout", "REGISTRATION_TIMEOUT", 15*time.Minute, "a NodeClaim whose node has not registered by then is deleted and its instance terminated")
	dur(&o.ICETTL, "ice-ttl", "ICE_TTL", 3*time.Minute, "how long a pool that returned InsufficientInstanceCapacity is skipped")
	dur(&o.DisruptionValidationDelay, "disruption-validation-delay", "DISRUPTION_VALIDATION_DELAY", 15*time.Second, "a disruption decision is carried out only if it still holds this long after it was made")
	dur(&o.DisruptionReplacementTimeout, "disruption-replacement-timeout", "DISRUPTION_REPLACEMENT_TIMEOUT", 10*time.Minute, "a disruption whose replacement nodes are not initialized by then is rolled back, nothing drained")
	dur(&o.DisruptionInterval, "disruption-interval", "DISRUPTION_INTERVAL", 10*time.Second, "the longest time between two disruption passes")
	str(&o.RepairPolicies, "repair-policies", "REPAIR_POLICIES", defaultRepairPolicies,
		"node conditions that get a node replaced once they last their toleration, as Type=Status:toleration,... (empty turns node repair off)")
	// Karpenter's defaults and names.
	num(&o.KubeClientQPS, "kube-client-qps", "KUBE_CLIENT_QPS", 200, "the smoothed rate of requests to the kube-apiserver, per second")
	num(&o.KubeClientBurst, "kube-client-burst", "KUBE_CLIENT_BURST", 300, "the most requests to the kube-apiserver allowed in a burst")
	str(&o.LogLevel, "log-level", "LOG_LEVEL", "info", "debug, info, warn or error")
	num(&o.MetricsPort, "metrics-port", "METRICS_PORT", 8080, "Prometheus metrics port (0 turns it off)")
	boolean(&o.EnableProfiling, "enable-profiling", "ENABLE_PROFILING", false, "serve pprof under /debug/pprof/ on the metrics port")
	num(&o.MemoryLimit, "memory-limit", "MEMORY_LIMIT", -1, "the container's memory limit in bytes; the Go runtime's soft memory limit is set to 90% of it (GOMEMLIMIT, when set, wins)")
	num(&o.HealthProbePort, "health-probe-port", "HEALTH_PROBE_PORT", 8081, "liveness (/healthz) and readiness (/readyz) port")
	boolean(&o.LeaderElection, "leader-elect", "LEADER_ELECT", true, "elect a leader, so that several replicas are safe")
	str(&o.RecordSolves, "record-solves", "RECORD_SOLVES", "", "directory to write each provisioning batch's solve into, as simulate input and plan, for replay with nodewright simulate (debugging aid; nothing is pruned)")
	str(&o.LeaderElectionNamespace, "leader-election-namespace", "LEADER_ELECTION_NAMESPACE", envOr("POD_NAMESPACE", "kube-system"), "namespace of the leader-election lease")
}

// defaultRepairPolicies is health.DefaultPolicies (kept here so options
// does not import a controller): karpenter-provider-aws's RepairPolicies.
const defaultRepairPolicies = "Ready=False:30m,Ready=Unknown:30m,AcceleratedHardwareReady=False:10m,StorageReady=False:30m," +
	"NetworkingReady=False:30m,KernelReady=False:30m,ContainerRuntimeReady=False:30m"

// envErrors collects unparsable environment values, reported by Validate.
var envErrors []error

func envOr(env, def string) string {
	if v, ok := os.LookupEnv(env); ok {
		return v
	}
	return def
}

// Validate reports every problem at once, each saying what to do.
func (o *Options) Validate() error {
	errs := append([]error(nil), envErrors...)
	if o.ClusterName == "" {
		errs = append(errs, errors.New("--cluster-name (CLUSTER_NAME) is required: the name of the EKS cluster nodewright provisions for"))
	}
	if o.ClusterEndpoint != "" {
		if u, err := url.Parse(o.ClusterEndpoint); err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("--cluster-endpoint (CLUSTER_ENDPOINT) %q must be an https URL such as https://ABC.gr7.us-east-1.eks.amazonaws.com", o.ClusterEndpoint))
		}
	}
	if o.BatchIdleDuration <= 0 || o.BatchMaxDuration <= 0 {
		errs = append(errs, errors.New("--batch-idle-duration and --batch-max-duration must be positive"))
	} else if o.BatchIdleDuration > o.BatchMaxDuration {
		errs = append(errs, fmt.Errorf("--batch-idle-duration (%s) must not exceed --batch-max-duration (%s)", o.BatchIdleDuration, o.BatchMaxDuration))
	}
	// Written so that NaN fails too.
	if !(o.InterruptionDrainFraction > 0 && o.InterruptionDrainFraction <= 1) {
		errs = append(errs, fmt.Errorf("--interruption-drain-fraction (INTERRUPTION_DRAIN_FRACTION) %v must be in (0, 1]: "+
			"the share of the 2-minute spot warning after which an interrupted node is drained even without its replacement, e.g. 0.5", o.InterruptionDrainFraction))
	}
	if o.DisruptionValidationDelay < 0 {
		errs = append(errs, fmt.Errorf("--disruption-validation-delay must not be negative, got %s", o.DisruptionValidationDelay))
	}
	for name, d := range map[string]time.Duration{"--launch-timeout": o.LaunchTimeout, "--registration-timeout": o.RegistrationTimeout, "--ice-ttl": o.ICETTL,
		"--disruption-replacement-timeout": o.DisruptionReplacementTimeout, "--disruption-interval": o.DisruptionInterval} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", name, d))
		}
	}
	if o.KubeClientQPS <= 0 || o.KubeClientBurst < o.KubeClientQPS {
		errs = append(errs, fmt.Errorf("--kube-client-qps (KUBE_CLIENT_QPS) %d must be positive and --kube-client-burst (KUBE_CLIENT_BURST) %d at least as large, e.g. 200 and 300",
			o.KubeClientQPS, o.KubeClientBurst))
	}
	switch strings.ToLower(o.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level (LOG_LEVEL) %q must be debug, info, warn or error", o.LogLevel))
	}
	for name, p := range map[string]int{"--metrics-port": o.MetricsPort, "--health-probe-port": o.HealthProbePort} {
		if p < 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("%s %d is not a port", name, p))
		}
	}
	return errors.Join(errs...)
}
