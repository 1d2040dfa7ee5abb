// Package migrate reads a live cluster that runs Karpenter: its NodePools,
// Provisioners and node classes, converted (package convert), and its
// NodeClaims and nodes, with what becomes of each at the cut-over.
package migrate

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodewright/nodewright/controller/convert"
)

// kinds are Karpenter's configuration resources, every generation; the
// cluster is asked for each group's preferred version, which its API
// server converts stored objects to.
var kinds = []schema.GroupResource{
	{Group: "karpenter.k8s.aws", Resource: "ec2nodeclasses"},
	{Group: "karpenter.k8s.aws", Resource: "awsnodetemplates"},
	{Group: "karpenter.sh", Resource: "nodepools"},
	{Group: "karpenter.sh", Resource: "provisioners"},
}

// Machine is one node Karpenter launched, and what happens to it.
type Machine struct {
	NodeClaim, Node, NodePool, InstanceType, CapacityType, Zone string
	ProviderID                                                  string
	// Version is the API version its NodeClaim was read in.
	Version string
	// Deleting: Karpenter is deleting the NodeClaim.
	Deleting bool
	// Pool is the nodewright NodePool its pods move to.
	Pool string
}

// Report is what migrate found and converted.
type Report struct {
	Conversion *convert.Result
	Machines   []Machine
	// Read lists the resources read, "resource.group/version (n)".
	Read []string
}

// Read lists Karpenter's objects and NodeClaims through the dynamic
// client and converts the objects.
func Read(ctx context.Context, disc discovery.DiscoveryInterface, dyn dynamic.Interface, opts convert.Options) (*Report, error) {
	groups, err := disc.ServerGroups()
	if err != nil {
		return nil, fmt.Errorf("discovering API groups: %w", err)
	}
	rep := &Report{}
	var docs []string
	for _, gr := range kinds {
		items, gvr, err := list(ctx, disc, groups, dyn, gr)
		if err != nil {
			return nil, err
		}
		if gvr == nil {
			continue
		}
		rep.Read = append(rep.Read, fmt.Sprintf("%s.%s/%s (%d)", gr.Resource, gr.Group, gvr.Version, len(items)))
		for _, u := range items {
			clean(&u)
			data, err := json.Marshal(u.Object)
			if err != nil {
				return nil, err
			}
			docs = append(docs, string(data))
		}
	}
	res, err := convert.Convert([]byte(strings.Join(docs, "\n")), opts)
	if err != nil {
		return nil, err
	}
	rep.Conversion = res
	claims, claimsGVR, err := list(ctx, disc, groups, dyn, schema.GroupResource{Group: "karpenter.sh", Resource: "nodeclaims"})
	if err != nil {
		return nil, err
	}
	for _, nc := range claims {
		l := nc.GetLabels()
		m := Machine{NodeClaim: nc.GetName(), NodePool: l["karpenter.sh/nodepool"], InstanceType: l["node.kubernetes.io/instance-type"],
			CapacityType: l["karpenter.sh/capacity-type"], Zone: l["topology.kubernetes.io/zone"], Version: claimsGVR.Version,
			Deleting: nc.GetDeletionTimestamp() != nil}
		m.Node, _, _ = unstructured.NestedString(nc.Object, "status", "nodeName")
		m.ProviderID, _, _ = unstructured.NestedString(nc.Object, "status", "providerID")
		for _, np := range res.NodePools {
			if np.Name == m.NodePool {
				m.Pool = np.Name
			}
		}
		rep.Machines = append(rep.Machines, m)
	}
	sort.Slice(rep.Machines, func(i, j int) bool { return rep.Machines[i].NodeClaim < rep.Machines[j].NodeClaim })
	return rep, nil
}

// list reads every object of gr in its group's preferred version (among
// groups, the server's); gvr is nil when the cluster does not serve gr.
func list(ctx context.Context, disc discovery.DiscoveryInterface, groups *metav1.APIGroupList, dyn dynamic.Interface, gr schema.GroupResource) ([]unstructured.Unstructured, *schema.GroupVersionResource, error) {
	for _, g := range groups.Groups {
		if g.Name != gr.Group {
			continue
		}
		versions := append([]metav1.GroupVersionForDiscovery{g.PreferredVersion}, g.Versions...)
		for _, v := range versions {
			resources, err := disc.ServerResourcesForGroupVersion(v.GroupVersion)
			if err != nil {
				if apierrors.IsNotFound(err) {
					continue
				}
				return nil, nil, fmt.Errorf("discovering %s: %w", v.GroupVersion, err)
			}
			for _, r := range resources.APIResources {
				if r.Name != gr.Resource {
					continue
				}
				gvr := gr.WithVersion(v.Version)
				l, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, nil, fmt.Errorf("listing %s: %w", gvr, err)
				}
				return l.Items, &gvr, nil
			}
		}
	}
	return nil, nil, nil
}

// clean drops what the API server added, which a conversion would only
// report: status and server-set metadata.
func clean(u *unstructured.Unstructured) {
	delete(u.Object, "status")
	for _, k := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "finalizers"} {
		unstructured.RemoveNestedField(u.Object, "metadata", k)
	}
	annotations := u.GetAnnotations()
	for k := range annotations {
		// Karpenter's own bookkeeping (hashes, the last applied config).
		if strings.HasPrefix(k, "karpenter.") || k == "kubectl.kubernetes.io/last-applied-configuration" {
			delete(annotations, k)
		}
	}
	if len(annotations) == 0 {
		annotations = nil
	}
	u.SetAnnotations(annotations)
}

// Steps is the cut-over, in order. Karpenter keeps running until its own
// nodes are gone: its termination finalizer is on each of them, and it is
// the one that drains them within their PodDisruptionBudgets. Adopt is
// the other way, which keeps the nodes.
func (r *Report) Steps() []string {
	pools := map[string]bool{}
	for _, m := range r.Machines {
		if m.NodePool != "" {
			pools[m.NodePool] = true
		}
	}
	steps := []string{
		"Stop Karpenter launching: set every Karpenter NodePool's limits to zero (kubectl patch nodepools.karpenter.sh NAME --type merge -p '{\"spec\":{\"limits\":{\"cpu\":\"0\"}}}'). Its nodes stay and keep their pods.",
		"Add the configuration written above to the one that calls modules/nodewright, and terraform apply it.",
		"Verify: kubectl get nodepools.nodewright.dev shows every pool Ready, and a test Deployment scaled up gets nodewright NodeClaims.",
	}
	if len(r.Machines) > 0 {
		steps = append(steps, fmt.Sprintf("Delete Karpenter's NodePools (kubectl delete nodepools.karpenter.sh %s): Karpenter drains and terminates its %d nodes within their PodDisruptionBudgets, and their pods move to nodewright's nodes. To keep the nodes instead, see nodewright migrate --adopt.",
			strings.Join(slices.Sorted(maps.Keys(pools)), " "), len(r.Machines)))
	}
	steps = append(steps, "When no karpenter.sh NodeClaim is left, scale Karpenter to 0, uninstall its chart and delete its CRDs.")
	return steps
}

// AdoptSteps is what is left once Adopt has run: Terraform takes over the
// objects it created, and Karpenter goes.
func (a *Adoption) AdoptSteps() []string {
	steps := []string{
		"Add the configuration written above to the one that calls modules/nodewright and terraform apply it: its import blocks take over the NodePools and EC2NodeClasses migrate created, so nothing is replaced.",
		fmt.Sprintf("Verify: kubectl get nodeclaims.nodewright.dev lists the %d adopted nodes Initialized (their instances were not relaunched).", len(a.Adopted)),
	}
	if len(a.Left) > 0 {
		steps = append(steps, fmt.Sprintf("%d nodes were left to Karpenter (listed above): scale Karpenter back up and delete their Karpenter NodePools; it drains and terminates them within their PodDisruptionBudgets.", len(a.Left)))
	}
	return append(steps, "When no karpenter.sh NodeClaim is left, scale Karpenter to 0, uninstall its chart and delete its CRDs.")
}
