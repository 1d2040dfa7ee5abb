package iampolicy

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

func testOptions() Options {
	return Options{Region: "us-west-2", AccountID: "123456789012", ClusterName: "prod",
		NodeRoleARN: "arn:aws:iam::123456789012:role/prod-nodes",
		QueueARN:    "arn:aws:sqs:us-west-2:123456789012:prod-interruptions"}
}

// controllerCalls is every AWS API call nodewright's AWS providers
// (controller/providers/*) make (see their EC2API, SSMAPI, PricingAPI and
// IAMAPI interfaces), plus the
// EKS lookup and the interruption queue consumer. A call added there must be
// added here and to the policy.
var controllerCalls = []string{
	"ec2:DescribeInstanceTypes", "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeSpotPriceHistory",
	"ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeImages",
	"ec2:CreateLaunchTemplate", "ec2:DescribeLaunchTemplates", "ec2:DeleteLaunchTemplate",
	"ec2:CreateFleet", "ec2:DescribeInstances", "ec2:TerminateInstances", "ec2:CreateTags",
	"ssm:GetParameter", "pricing:GetProducts",
	"iam:CreateInstanceProfile", "iam:GetInstanceProfile", "iam:AddRoleToInstanceProfile",
	"iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile", "iam:TagInstanceProfile",
	"iam:PassRole", "eks:DescribeCluster",
	"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueUrl",
}

func TestEveryControllerCallIsAllowed(t *testing.T) {
	o := testOptions()
	for _, a := range controllerCalls {
		if !Allows(o, a) {
			t.Errorf("%s is not allowed by any statement", a)
		}
	}
}

func TestNoWildcardActionsOrUnexpectedGrants(t *testing.T) {
	want := map[string]bool{}
	for _, a := range controllerCalls {
		want[a] = true
	}
	// RunInstances is what CreateFleet (type instant) authorises per instance.
	want["ec2:RunInstances"] = true
	for _, a := range Actions(testOptions()) {
		if strings.Contains(a, "*") {
			t.Errorf("wildcard action %s", a)
		}
		if !want[a] {
			t.Errorf("%s is granted but the controller never calls it", a)
		}
	}
}

func TestQueueOnlyWhenGiven(t *testing.T) {
	o := testOptions()
	o.QueueARN = ""
	for _, a := range Actions(o) {
		if strings.HasPrefix(a, "sqs:") {
			t.Errorf("%s granted without a queue", a)
		}
	}
}

func TestDocumentScopes(t *testing.T) {
	doc, err := Document(testOptions())
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Version   string
		Statement []Statement
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	if d.Version != "2012-10-17" {
		t.Errorf("version %q", d.Version)
	}
	bySid := map[string]Statement{}
	for _, s := range d.Statement {
		if _, dup := bySid[s.Sid]; dup {
			t.Errorf("duplicate sid %s", s.Sid)
		}
		bySid[s.Sid] = s
	}
	check := func(sid string, f func(Statement) bool, what string) {
		t.Helper()
		s, ok := bySid[sid]
		if !ok {
			t.Errorf("no statement %s", sid)
			return
		}
		if !f(s) {
			t.Errorf("%s: %s; got %+v", sid, what, s)
		}
	}
	check("PassNodeRole", func(s Statement) bool {
		return len(s.Resource) == 1 && s.Resource[0] == "arn:aws:iam::123456789012:role/prod-nodes" &&
			s.Condition["StringEquals"]["iam:PassedToService"] == "ec2.amazonaws.com"
	}, "PassRole must be limited to the node role and EC2")
	check("EC2LaunchCreated", func(s Statement) bool {
		return s.Condition["StringEquals"]["aws:RequestTag/kubernetes.io/cluster/prod"] == "owned" &&
			s.Condition["StringEquals"]["aws:RequestedRegion"] == "us-west-2" &&
			s.Condition["StringLike"]["aws:RequestTag/nodewright.dev/nodepool"] == "*"
	}, "launches need the cluster and nodepool request tags in the region")
	check("EC2TagOnCreate", func(s Statement) bool {
		_, ok := s.Condition["StringEquals"]["ec2:CreateAction"]
		return ok
	}, "tags only at creation")
	check("EC2TerminateOwned", func(s Statement) bool {
		return s.Condition["StringEquals"]["aws:ResourceTag/kubernetes.io/cluster/prod"] == "owned"
	}, "terminate only owned instances")
	check("SSMPublicParameters", func(s Statement) bool {
		return s.Resource[0] == "arn:aws:ssm:us-west-2::parameter/aws/service/*"
	}, "only public parameters")
	check("EKSCluster", func(s Statement) bool {
		return s.Resource[0] == "arn:aws:eks:us-west-2:123456789012:cluster/prod"
	}, "only this cluster")
	check("InterruptionQueue", func(s Statement) bool {
		return s.Resource[0] == "arn:aws:sqs:us-west-2:123456789012:prod-interruptions"
	}, "only this queue")
}

func TestValidate(t *testing.T) {
	for name, mutate := range map[string]func(*Options){
		"no region":     func(o *Options) { o.Region = "" },
		"no cluster":    func(o *Options) { o.ClusterName = "" },
		"bad role":      func(o *Options) { o.NodeRoleARN = "prod-nodes" },
		"bad queue arn": func(o *Options) { o.QueueARN = "https://sqs/q" },
	} {
		o := testOptions()
		mutate(&o)
		if _, err := Document(o); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

// TestAPIInterfacesCovered reads the AWS client interfaces the providers
// are written against (each provider's api.go under controller/providers),
// so a method added there without a policy change fails here.
func TestAPIInterfacesCovered(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "providers", "*", "api.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, path := range paths {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	services := map[string]string{"EC2API": "ec2", "SSMAPI": "ssm", "PricingAPI": "pricing", "IAMAPI": "iam"}
	o := testOptions()
	seen := 0
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			iface, ok := ts.Type.(*ast.InterfaceType)
			if !ok {
				return false
			}
			svc, ok := services[ts.Name.Name]
			if !ok {
				t.Errorf("interface %s in an api.go has no known AWS service; add it to this test and the policy", ts.Name.Name)
				return false
			}
			for _, m := range iface.Methods.List {
				var op string
				switch x := m.Type.(type) {
				case *ast.FuncType:
					op = m.Names[0].Name
				case *ast.SelectorExpr: // an embedded <svc>.<Op>APIClient
					op = strings.TrimSuffix(x.Sel.Name, "APIClient")
				default:
					continue
				}
				seen++
				action := svc + ":" + op
				if !Allows(o, action) {
					t.Errorf("%s.%s needs %s, which no statement allows", ts.Name.Name, op, action)
				}
			}
			return false
		})
	}
	if seen < 15 {
		t.Fatalf("found only %d methods in %v; the parser is not reading them right", seen, paths)
	}
}
