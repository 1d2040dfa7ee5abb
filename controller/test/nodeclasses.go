package test

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// EC2NodeClassOptions describe an EC2NodeClass; its spec is
// EC2NodeClassSpec() with what is set here.
type EC2NodeClassOptions struct {
	Name       string
	Finalizers []string
	// Discovery, when set, selects the subnets and security groups tagged
	// nodewright.dev/discovery=<Discovery>, as the emulator tags its
	// cluster's, instead of k=v.
	Discovery string
	// Role replaces "nodes".
	Role string
	Tags map[string]string
}

// EC2NodeClass builds the class, without status: the status controller (or
// the test) decides whether it is Ready.
func EC2NodeClass(o EC2NodeClassOptions) *v1.EC2NodeClass {
	spec := EC2NodeClassSpec()
	if o.Discovery != "" {
		selector := map[string]string{"nodewright.dev/discovery": o.Discovery}
		spec.SubnetSelectorTerms = []v1.SubnetSelectorTerm{{Tags: selector}}
		spec.SecurityGroupSelectorTerms = []v1.SecurityGroupSelectorTerm{{Tags: selector}}
	}
	if o.Role != "" {
		spec.Role = o.Role
	}
	spec.Tags = o.Tags
	return &v1.EC2NodeClass{ObjectMeta: metav1.ObjectMeta{Name: o.Name, Finalizers: o.Finalizers}, Spec: spec}
}

// EC2NodeClassSpec is a minimal spec the CRD admits: a role, subnets and
// security groups by tag k=v, and the latest AL2023 image.
func EC2NodeClassSpec() v1.EC2NodeClassSpec {
	return v1.EC2NodeClassSpec{
		Role:                       "nodes",
		SubnetSelectorTerms:        []v1.SubnetSelectorTerm{{Tags: map[string]string{"k": "v"}}},
		SecurityGroupSelectorTerms: []v1.SecurityGroupSelectorTerm{{Tags: map[string]string{"k": "v"}}},
		AMISelectorTerms:           []v1.AMISelectorTerm{{Alias: "al2023@latest"}},
	}
}
