package convert

import (
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
)

func newClass(name string) *v1.EC2NodeClass {
	return &v1.EC2NodeClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.SchemeGroupVersion.String(), Kind: "EC2NodeClass"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
}

// nodeClass converts a karpenter.k8s.aws EC2NodeClass, v1 or v1beta1.
func (c *converter) nodeClass(src string, u *unstructured.Unstructured, beta bool) {
	c.metadata(src, u)
	nc := newClass(u.GetName())
	nc.Labels, nc.Annotations = u.GetLabels(), u.GetAnnotations()
	spec := c.fields(src, u.Object, "").sub("spec")
	spec.take("subnetSelectorTerms", &nc.Spec.SubnetSelectorTerms)
	spec.take("securityGroupSelectorTerms", &nc.Spec.SecurityGroupSelectorTerms)
	spec.take("amiSelectorTerms", &nc.Spec.AMISelectorTerms)
	var family string
	spec.take("amiFamily", &family)
	c.amiFamily(src, spec.at("amiFamily"), nc, family)
	spec.take("role", &nc.Spec.Role)
	spec.takeLaunchFields(nc)
	if !beta {
		spec.take("kubelet", &nc.Spec.Kubelet)
		c.fitKubelet(src, "spec.kubelet", nc)
	}
	c.unsupportedClassFields(spec)
	spec.rest()
	c.addClass(src, nc)
}

// takeLaunchFields reads the fields every generation of node class (and
// v1alpha5's inline provider) spells as nodewright does.
func (f fields) takeLaunchFields(nc *v1.EC2NodeClass) {
	f.take("instanceProfile", &nc.Spec.InstanceProfile)
	f.take("userData", &nc.Spec.UserData)
	f.take("tags", &nc.Spec.Tags)
	f.take("blockDeviceMappings", &nc.Spec.BlockDeviceMappings)
	f.take("metadataOptions", &nc.Spec.MetadataOptions)
}

// unsupportedClassFields says, for the EC2NodeClass fields nodewright
// lacks, what a user loses.
func (c *converter) unsupportedClassFields(spec fields) {
	why := map[string]string{
		"instanceStorePolicy":              "nodewright does not RAID0 instance store volumes; ephemeral storage stays on the root volume",
		"detailedMonitoring":               "nodewright launches with basic CloudWatch monitoring",
		"associatePublicIPAddress":         "nodes get the subnet's default public IP setting",
		"context":                          "nodewright does not launch through an EC2 Fleet context",
		"capacityReservationSelectorTerms": "nodewright does not launch into capacity reservations",
	}
	for _, field := range sortedKeys(why) {
		msg := why[field]
		if v, ok := spec.m[field]; ok {
			if field == "detailedMonitoring" && v == false {
				spec.drop(field)
				continue // basic monitoring, as nodewright launches
			}
			spec.drop(field)
			c.note(spec.src, spec.at(field), true, msg)
		}
	}
}

// amiFamily turns a v1beta1/v1alpha1 amiFamily into what nodewright reads:
// with no amiSelectorTerms, the family's alias at @latest (v1's own
// migration). AL2 becomes AL2023; Windows is reported, since nodewright
// launches Linux only.
func (c *converter) amiFamily(src, field string, nc *v1.EC2NodeClass, family string) {
	switch strings.ToLower(family) {
	case "":
		return
	case "al2023", "bottlerocket":
		if len(nc.Spec.AMISelectorTerms) == 0 {
			nc.Spec.AMISelectorTerms = []v1.AMISelectorTerm{{Alias: strings.ToLower(family) + "@latest"}}
			c.note(src, field, false, fmt.Sprintf("became amiSelectorTerms alias %s@latest: nodes take the newest AMI, as the family did", strings.ToLower(family)))
			return
		}
		nc.Spec.AMIFamily = &family
	case "al2":
		// EKS publishes no AL2 AMI from Kubernetes 1.33, and nodewright
		// launches none: AL2023 is the family's successor.
		if len(nc.Spec.AMISelectorTerms) == 0 {
			nc.Spec.AMISelectorTerms = []v1.AMISelectorTerm{{Alias: "al2023@latest"}}
		} else {
			al2023 := "AL2023"
			nc.Spec.AMIFamily = &al2023
		}
		c.note(src, field, true, "AL2 became AL2023 (alias al2023@latest): EKS publishes no AL2 AMIs from Kubernetes 1.33; AL2 user data (bootstrap.sh) must be rewritten for nodeadm")
	case "custom":
		nc.Spec.AMIFamily = &family
	default:
		c.note(src, field, true, fmt.Sprintf("%s is not an AMI family nodewright launches (AL2023, Bottlerocket, AL2, Custom)", family))
	}
}

// addClass records a converted class; two with one name keep the first.
func (c *converter) addClass(src string, nc *v1.EC2NodeClass) {
	if prev, ok := c.classSources[nc.Name]; ok {
		c.note(src, "metadata.name", true, fmt.Sprintf("EC2NodeClass %s is also made from %s; this one is left out", nc.Name, prev))
		return
	}
	switch {
	case (nc.Spec.Role != "" || nc.Spec.InstanceProfile != nil) && c.res.Module != "":
		// The controller policy lets nodewright pass one role to EC2.
		c.note(src, "spec.role", false, fmt.Sprintf("nodes launch only with the node role module.%s passes (iam:PassRole on its node_role_name): give that module create_node_iam = false and this class's role as node_role_name, or set role = module.%s.node_role_name here", c.res.Module, c.res.Module))
	case nc.Spec.Role != "" || nc.Spec.InstanceProfile != nil:
	case c.role != "":
		nc.Spec.Role = c.role
		c.note(src, "spec.role", false, fmt.Sprintf("neither role nor instanceProfile was given (Karpenter took the instance profile from its settings); role %s from --role", c.role))
	case c.res.Module != "":
		c.res.RoleFromModule[nc.Name] = true
		c.note(src, "spec.role", false, fmt.Sprintf("neither role nor instanceProfile was given (Karpenter took the instance profile from its settings); the role is module.%s.node_role_name", c.res.Module))
	default:
		c.note(src, "spec.role", true, "neither role nor instanceProfile is given (Karpenter took the instance profile from its settings); set one, or pass --role")
	}
	c.classes[nc.Name] = nc
	c.classSources[nc.Name] = src
}

// fitKubelet drops the kubelet settings the class's AMI family has no
// place for: Bottlerocket has no podsPerCore.
func (c *converter) fitKubelet(src, field string, nc *v1.EC2NodeClass) {
	k := nc.Spec.Kubelet
	bottlerocket := len(nc.Spec.AMISelectorTerms) > 0 && strings.HasPrefix(nc.Spec.AMISelectorTerms[0].Alias, "bottlerocket@") ||
		nc.Spec.AMIFamily != nil && strings.EqualFold(*nc.Spec.AMIFamily, "Bottlerocket")
	if k != nil && k.PodsPerCore != nil && bottlerocket {
		k.PodsPerCore = nil
		c.note(src, field+".podsPerCore", true, "Bottlerocket has no podsPerCore setting; left out (use maxPods)")
	}
}

func equalJSON(a, b any) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(x) == string(y)
}
