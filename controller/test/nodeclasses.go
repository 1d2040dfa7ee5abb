package test

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

// EC2NodeClassOptions describe an EC2NodeClass; its spec is always
// EC2NodeClassSpec().
type EC2NodeClassOptions struct {
	Name       string
	Finalizers []string
}

// EC2NodeClass builds the class, without status: the status controller (or
// the test) decides whether it is Ready.
func EC2NodeClass(o EC2NodeClassOptions) *v1.EC2NodeClass {
	return &v1.EC2NodeClass{ObjectMeta: metav1.ObjectMeta{Name: o.Name, Finalizers: o.Finalizers}, Spec: EC2NodeClassSpec()}
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
