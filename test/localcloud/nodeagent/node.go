package nodeagent

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodewright/nodewright/controller/catalog"
)

// desiredNode builds the Node kubelet would register, or says why kubelet
// would never get that far.
func (a *Agent) desiredNode(in instance, view worldView) (*corev1.Node, string) {
	boot, err := ParseUserData(in.UserData)
	if err != nil {
		return nil, err.Error()
	}
	// A kubelet pointed at another cluster cannot authenticate to this one.
	if view.clusterName != "" && boot.ClusterName != view.clusterName {
		return nil, fmt.Sprintf("userData joins cluster %q, not %q", boot.ClusterName, view.clusterName)
	}
	if view.clusterEndpoint != "" && strings.TrimRight(boot.APIServerEndpoint, "/") != strings.TrimRight(view.clusterEndpoint, "/") {
		return nil, fmt.Sprintf("userData API server %q is not the cluster's %q", boot.APIServerEndpoint, view.clusterEndpoint)
	}
	it, ok := a.types[in.Type]
	if !ok {
		return nil, fmt.Sprintf("instance type %q is not in the catalog", in.Type)
	}
	name := in.PrivateDNS
	if name == "" {
		name = privateDNSName(in.PrivateIP, view.region)
	}
	if name == "" {
		return nil, "instance has neither a private DNS name nor a private IP"
	}
	arch := it.Architecture
	if arch == "" {
		arch = map[string]string{"x86_64": "amd64", "arm64": "arm64"}[in.Architecture]
	}

	labels := make(map[string]string, len(boot.Labels)+11)
	for k, v := range boot.Labels {
		labels[k] = v
	}
	// Kubelet and the cloud provider own these; userData cannot override them.
	// Both set the deprecated beta keys beside the stable ones (kubelet's
	// initialNode in pkg/kubelet/kubelet_node_status.go; k8s.io/cloud-provider's
	// node controller), which old charts still select on.
	for k, v := range map[string]string{
		corev1.LabelHostname:                name,
		corev1.LabelOSStable:                "linux",
		"beta.kubernetes.io/os":             "linux",
		corev1.LabelArchStable:              arch,
		"beta.kubernetes.io/arch":           arch,
		corev1.LabelInstanceTypeStable:      in.Type,
		corev1.LabelInstanceType:            in.Type,
		corev1.LabelTopologyZone:            in.Zone,
		corev1.LabelFailureDomainBetaZone:   in.Zone,
		corev1.LabelTopologyRegion:          view.region,
		corev1.LabelFailureDomainBetaRegion: view.region,
	} {
		labels[k] = v
	}
	kubelet := boot.Kubelet()
	kubelet.RootVolumeBytes = in.ephemeralBytes(boot.Format)
	capacity, allocatable := catalog.Resources(it, kubelet)
	addresses := []corev1.NodeAddress{}
	if in.PrivateIP != "" {
		addresses = append(addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: in.PrivateIP})
	}
	addresses = append(addresses,
		corev1.NodeAddress{Type: corev1.NodeInternalDNS, Address: name},
		corev1.NodeAddress{Type: corev1.NodeHostName, Address: name})
	osImage := "Amazon Linux 2023"
	if boot.Format == FormatBottlerocket {
		osImage = "Bottlerocket OS"
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      labels,
			Annotations: map[string]string{KwokNodeAnnotation: "fake", WorldAnnotation: view.worldID},
		},
		Spec: corev1.NodeSpec{
			ProviderID: ProviderID(in.Zone, in.ID),
			Taints:     boot.Taints,
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: allocatable,
			Addresses:   addresses,
			NodeInfo: corev1.NodeSystemInfo{
				Architecture:    arch,
				OperatingSystem: "linux",
				OSImage:         osImage,
				KubeletVersion:  KubeletVersion,
			},
		},
	}, ""
}
