package options

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, env map[string]string, args ...string) (*Options, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	o := &Options{}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return o, o.Validate()
}

func TestDefaultsEnvAndFlags(t *testing.T) {
	o, err := parse(t, map[string]string{"CLUSTER_NAME": "prod", "BATCH_IDLE_DURATION": "2s", "INTERRUPTION_QUEUE": "q"}, "--batch-max-duration=20s")
	if err != nil {
		t.Fatal(err)
	}
	if o.ClusterName != "prod" || o.BatchIdleDuration != 2*time.Second || o.BatchMaxDuration != 20*time.Second ||
		o.InterruptionQueue != "q" || o.LaunchTimeout != 5*time.Minute || o.RegistrationTimeout != 15*time.Minute ||
		!o.LeaderElection || o.MetricsPort != 8080 || o.LogLevel != "info" || o.KubeClientQPS != 200 || o.KubeClientBurst != 300 {
		t.Fatalf("unexpected options %+v", o)
	}
	o, err = parse(t, map[string]string{"CLUSTER_NAME": "prod"}, "--cluster-name=flag-wins")
	if err != nil || o.ClusterName != "flag-wins" {
		t.Fatalf("flag should beat env: %v %+v", err, o)
	}
}

func TestValidationErrorsSayWhatToDo(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"missing cluster":     {nil, nil, "--cluster-name (CLUSTER_NAME) is required"},
		"bad endpoint":        {map[string]string{"CLUSTER_NAME": "c"}, []string{"--cluster-endpoint=http://x"}, "must be an https URL"},
		"idle beyond max":     {map[string]string{"CLUSTER_NAME": "c"}, []string{"--batch-idle-duration=20s"}, "must not exceed --batch-max-duration"},
		"bad env duration":    {map[string]string{"CLUSTER_NAME": "c", "BATCH_MAX_DURATION": "ten"}, nil, `BATCH_MAX_DURATION="ten" is not a duration`},
		"bad log level":       {map[string]string{"CLUSTER_NAME": "c", "LOG_LEVEL": "loud"}, nil, "must be debug, info, warn or error"},
		"negative timeout":    {map[string]string{"CLUSTER_NAME": "c"}, []string{"--launch-timeout=-1s"}, "--launch-timeout must be positive"},
		"bad port":            {map[string]string{"CLUSTER_NAME": "c"}, []string{"--metrics-port=70000"}, "is not a port"},
		"burst below qps":     {map[string]string{"CLUSTER_NAME": "c", "KUBE_CLIENT_QPS": "500"}, nil, "--kube-client-burst (KUBE_CLIENT_BURST) 300 at least as large"},
		"zero qps":            {map[string]string{"CLUSTER_NAME": "c"}, []string{"--kube-client-qps=0"}, "--kube-client-qps (KUBE_CLIENT_QPS) 0 must be positive"},
		"bad leader election": {map[string]string{"CLUSTER_NAME": "c", "LEADER_ELECT": "maybe"}, nil, `LEADER_ELECT="maybe" is not a boolean`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parse(t, tc.env, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

func TestDisruptionOptions(t *testing.T) {
	o, err := parse(t, map[string]string{"CLUSTER_NAME": "c", "DISRUPTION_VALIDATION_DELAY": "2s"})
	if err != nil {
		t.Fatal(err)
	}
	if o.DisruptionValidationDelay != 2*time.Second || o.DisruptionReplacementTimeout != 10*time.Minute || o.DisruptionInterval != 10*time.Second {
		t.Fatalf("unexpected disruption options %+v", o)
	}
	if _, err := parse(t, map[string]string{"CLUSTER_NAME": "c"}, "--disruption-validation-delay=-1s"); err == nil ||
		!strings.Contains(err.Error(), "--disruption-validation-delay must not be negative") {
		t.Fatalf("want a negative-delay error, got %v", err)
	}
}

func TestInterruptionDrainFraction(t *testing.T) {
	o, err := parse(t, map[string]string{"CLUSTER_NAME": "c"})
	if err != nil || o.InterruptionDrainFraction != 0.5 {
		t.Fatalf("default drain fraction %v (%v), want 0.5", o.InterruptionDrainFraction, err)
	}
	o, err = parse(t, map[string]string{"CLUSTER_NAME": "c", "INTERRUPTION_DRAIN_FRACTION": "0.25"})
	if err != nil || o.InterruptionDrainFraction != 0.25 {
		t.Fatalf("env drain fraction %v (%v), want 0.25", o.InterruptionDrainFraction, err)
	}
	o, err = parse(t, map[string]string{"CLUSTER_NAME": "c", "INTERRUPTION_DRAIN_FRACTION": "0.25"}, "--interruption-drain-fraction=1")
	if err != nil || o.InterruptionDrainFraction != 1 {
		t.Fatalf("flag drain fraction %v (%v), want 1: the flag beats the env and 1 is allowed", o.InterruptionDrainFraction, err)
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"zero":         {nil, []string{"--interruption-drain-fraction=0"}, "--interruption-drain-fraction (INTERRUPTION_DRAIN_FRACTION) 0 must be in (0, 1]"},
		"above one":    {nil, []string{"--interruption-drain-fraction=1.5"}, "--interruption-drain-fraction (INTERRUPTION_DRAIN_FRACTION) 1.5 must be in (0, 1]"},
		"negative env": {map[string]string{"INTERRUPTION_DRAIN_FRACTION": "-0.1"}, nil, "-0.1 must be in (0, 1]"},
		"NaN":          {map[string]string{"INTERRUPTION_DRAIN_FRACTION": "NaN"}, nil, "NaN must be in (0, 1]"},
		"not a number": {map[string]string{"INTERRUPTION_DRAIN_FRACTION": "half"}, nil, `INTERRUPTION_DRAIN_FRACTION="half" is not a number`},
	} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"CLUSTER_NAME": "c"}
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := parse(t, env, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}
