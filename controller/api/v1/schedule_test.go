package v1_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/nodewright/nodewright/controller/cron"
	"github.com/nodewright/nodewright/controller/cron/crontest"
	"github.com/nodewright/nodewright/test/localcloud"
)

// TestSchedulePatternIsCronPattern: the CRD's budget schedule pattern is
// controller/cron's, so the CRD, the Terraform validator and the controller
// share one definition.
func TestSchedulePatternIsCronPattern(t *testing.T) {
	root, err := localcloud.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "controller", "crds", "nodewright.dev_nodepools.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd map[string]any
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	versions, _, _ := unstructured.NestedSlice(crd, "spec", "versions")
	if len(versions) != 1 {
		t.Fatalf("%d versions", len(versions))
	}
	pattern, _, err := unstructured.NestedString(versions[0].(map[string]any), "schema", "openAPIV3Schema", "properties", "spec",
		"properties", "disruption", "properties", "budgets", "items", "properties", "schedule", "pattern")
	if err != nil || pattern != cron.Pattern {
		t.Fatalf("the CRD's schedule pattern is not cron.Pattern (%v): copy cron.Pattern into the Budget.Schedule marker and run make generate\nCRD:  %s\ncron: %s", err, pattern, cron.Pattern)
	}
}

// TestScheduleAdmissionAgreesWithValidate sends random schedules to the
// API server: it admits exactly those cron.Validate accepts (what
// `terraform plan` checks), and everything it admits the controller parses.
func TestScheduleAdmissionAgreesWithValidate(t *testing.T) {
	client(t) // installs the CRDs
	// client-go's default 5 requests/s would make this test wait, not work.
	cfg := rest.CopyConfig(cloud.RESTConfig)
	cfg.QPS, cfg.Burst = 200, 200
	c, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	admitted := 0
	specs := []string{"0 9 * * mon-fri", "0 9 * * fri-mon", "0 9 * JAN-Mar sun", "5-3 * * * *", "0005-3 * * * *", "*-5 * * * *", "@weekly"}
	for len(specs) < 400 {
		specs = append(specs, crontest.Expression(r))
	}
	began := time.Now()
	for _, spec := range specs {
		u := object(t, validNodePool, "spec.disruption", `{budgets: [{nodes: "0", duration: 1h}]}`)
		budgets, _, _ := unstructured.NestedSlice(u.Object, "spec", "disruption", "budgets")
		budgets[0].(map[string]any)["schedule"] = spec
		if err := unstructured.SetNestedSlice(u.Object, budgets, "spec", "disruption", "budgets"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := c.Resource(nodePoolGVR).Create(ctx, u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		cancel()
		if err != nil && !apierrors.IsInvalid(err) {
			t.Fatalf("%q: %v", spec, err)
		}
		verr := cron.Validate(spec)
		if (err == nil) != (verr == nil) {
			t.Fatalf("%q: API server says %v; cron.Validate says %v", spec, err, verr)
		}
		if err != nil {
			if strings.Contains(err.Error(), "no such key") || strings.Contains(err.Error(), "compilation") {
				t.Fatalf("%q: the CEL rule failed to evaluate: %v", spec, err)
			}
			continue
		}
		admitted++
		if _, perr := cron.Parse(spec); perr != nil {
			t.Fatalf("%q is admitted but the controller cannot parse it: %v", spec, perr)
		}
	}
	if admitted < len(specs)/10 {
		t.Fatalf("only %d of %d schedules admitted: too few to test agreement", admitted, len(specs))
	}
	t.Logf("%d of %d schedules admitted, each exactly as cron.Validate says (%v per request)", admitted, len(specs), time.Since(began)/time.Duration(len(specs)))
}
