package awscli

import (
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

// allScenarios is every service's scenarios.
func allScenarios() []scenario {
	var all []scenario
	for _, s := range [][]scenario{ec2Scenarios, iamScenarios, stsScenarios, sqsScenarios, eventsScenarios, ssmScenarios, pricingScenarios, eksScenarios} {
		all = append(all, s...)
	}
	return all
}

// TestEveryServedOperationHasACLICase fails when the emulator serves an
// operation no scenario calls successfully, and when a scenario calls one
// it does not serve (a misspelt operation). It needs no CLI, so it runs in
// every go test ./... and catches an operation added without a case.
func TestEveryServedOperationHasACLICase(t *testing.T) {
	served := servedOperations(t, awsemu.NewForTest(t, awsemu.Options{}))
	covered := map[string]bool{}
	for _, sc := range allScenarios() {
		for _, st := range sc.steps {
			op := st.service + ":" + st.op
			if !served[op] {
				t.Errorf("scenario %s calls %s, which the emulator does not serve", sc.name, op)
			}
			if st.err == "" {
				covered[op] = true
			}
		}
	}
	perService := map[string][2]int{}
	for op := range served {
		svc, _, _ := strings.Cut(op, ":")
		n := perService[svc]
		n[0]++
		if covered[op] {
			n[1]++
		} else {
			t.Errorf("the emulator serves %s, but no scenario calls it successfully: add a step to %s_test.go", op, svc)
		}
		perService[svc] = n
	}
	svcs := make([]string, 0, len(perService))
	for s := range perService {
		svcs = append(svcs, s)
	}
	sort.Strings(svcs)
	for _, s := range svcs {
		t.Logf("%-8s %d of %d served operations called", s, perService[s][1], perService[s][0])
	}
}

// servedOperations lists what the emulator dispatches, as "service:Action":
// its table of query and JSON operations and its REST routes (EKS's).
// awsemu exports neither, so this reads the unexported fields; if they are
// renamed the test says so, and an exported list would be the better fix.
func servedOperations(t *testing.T, srv *awsemu.Server) map[string]bool {
	t.Helper()
	v := reflect.ValueOf(srv).Elem()
	ops, rest := v.FieldByName("ops"), v.FieldByName("rest")
	if ops.Kind() != reflect.Map || rest.Kind() != reflect.Slice {
		t.Fatalf("awsemu.Server no longer has ops (service -> action -> handler) and rest (routes); update servedOperations")
	}
	served := map[string]bool{}
	for _, svc := range ops.MapKeys() {
		for _, action := range ops.MapIndex(svc).MapKeys() {
			served[svc.String()+":"+action.String()] = true
		}
	}
	for i := range rest.Len() {
		route := rest.Index(i)
		action := route.FieldByName("action")
		if action.Kind() != reflect.String {
			t.Fatalf("awsemu's REST routes no longer have an action; update servedOperations")
		}
		// Only EKS is REST-JSON: the dispatcher matches routes for it alone.
		svc := "eks"
		if f := route.FieldByName("service"); f.Kind() == reflect.String {
			svc = f.String()
		}
		served[svc+":"+action.String()] = true
	}
	if len(served) == 0 {
		t.Fatal("found no served operations")
	}
	return served
}

// xformName is botocore's xform_name(op, "-"): the CLI's name for an
// operation (DescribeInstanceTypeOfferings -> describe-instance-type-offerings).
func xformName(op string) string {
	name := op
	if m := xformSpecialEnd.FindString(name); m != "" {
		// ARNs, ACLs and the like end in one word: -arns, -acls.
		name = name[:len(name)-len(m)] + "-" + strings.ToLower(m)
	}
	s := xformFirstCap.ReplaceAllString(name, "${1}-${2}")
	s = strings.ToLower(xformEndCap.ReplaceAllString(s, "${1}-${2}"))
	for _, r := range [][2]string{{"ipv-6", "ipv6"}, {"s-3-resources", "s3-resources"}} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}

var (
	xformFirstCap   = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	xformEndCap     = regexp.MustCompile(`([a-z0-9])([A-Z])`)
	xformSpecialEnd = regexp.MustCompile(`[A-Z]{2,}s$`)
)

func TestXformName(t *testing.T) {
	for op, want := range map[string]string{
		"DescribeInstanceTypeOfferings":       "describe-instance-type-offerings",
		"GetQueueUrl":                         "get-queue-url",
		"ListOpenIDConnectProviders":          "list-open-id-connect-providers",
		"AssumeRoleWithWebIdentity":           "assume-role-with-web-identity",
		"DescribeDhcpOptions":                 "describe-dhcp-options",
		"AssociateVpcCidrBlock":               "associate-vpc-cidr-block",
		"ListAWSServiceAccessForOrganization": "list-aws-service-access-for-organization",
		"DescribeIpv6Pools":                   "describe-ipv6-pools",
		"ListTagsForResource":                 "list-tags-for-resource",
		"GetParametersByPath":                 "get-parameters-by-path",
	} {
		if got := xformName(op); got != want {
			t.Errorf("xformName(%s) = %s, want %s", op, got, want)
		}
	}
}
