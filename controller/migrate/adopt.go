package migrate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/providers/instance"
	"github.com/nodewright/nodewright/controller/utils/nodeclaim"
)

// karpenterFinalizer is the finalizer Karpenter puts on its NodeClaims and
// nodes; with Karpenter stopped, nothing would ever remove it.
const karpenterFinalizer = "karpenter.sh/termination"

// karpenterPodSelector is the label its Helm chart gives Karpenter's pods.
const karpenterPodSelector = "app.kubernetes.io/name=karpenter"

// TagAPI is the EC2 call adoption makes.
type TagAPI interface {
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, optFns ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
}

// Adoption is what Adopt did.
type Adoption struct {
	// Created lists the converted objects it created, "Kind name"; the
	// Terraform output imports every converted object in the cluster.
	Created []string
	// Adopted lists the Karpenter NodeClaims whose nodes nodewright now
	// manages, and Left those it left to Karpenter's cut-over, with why.
	Adopted []string
	Left    []string
}

// Adopt hands Karpenter's running nodes to nodewright without a relaunch.
// Karpenter must be stopped first: two controllers must not disrupt the
// same node. It creates the converted EC2NodeClasses and NodePools that
// are missing, then, for each Karpenter NodeClaim whose pool converted,
// whose node runs and which Karpenter is not deleting:
//  1. a nodewright NodeClaim of the same name that names the instance
//     (v1.AdoptProviderIDAnnotationKey), so the controller looks it up
//     rather than launching one, registers the node and manages it;
//  2. the instance gets nodewright's tags, which its IAM policy requires to
//     terminate it and its garbage collection reads;
//  3. the node loses Karpenter's finalizer and owner reference, so deleting
//     Karpenter's NodeClaim leaves it running;
//  4. Karpenter's NodeClaim is deleted.
//
// Each step is idempotent: Adopt may be run again after a failure.
func Adopt(ctx context.Context, kube client.Client, dyn dynamic.Interface, tags TagAPI, rep *Report) (*Adoption, error) {
	if err := karpenterStopped(ctx, kube); err != nil {
		return nil, err
	}
	out := &Adoption{}
	res := rep.Conversion
	if res.Imported == nil {
		res.Imported = map[string]bool{}
	}
	classes := map[string]*v1.EC2NodeClass{}
	for _, want := range res.NodeClasses {
		got, created, err := ensure(ctx, kube, "EC2NodeClass", want.DeepCopy(), &v1.EC2NodeClass{})
		if err != nil {
			return out, err
		}
		classes[want.Name] = got.(*v1.EC2NodeClass)
		res.Imported["EC2NodeClass "+want.Name] = true
		if created {
			out.Created = append(out.Created, "EC2NodeClass "+want.Name)
		}
	}
	pools := map[string]*v1.NodePool{}
	for _, want := range res.NodePools {
		got, created, err := ensure(ctx, kube, "NodePool", want.DeepCopy(), &v1.NodePool{})
		if err != nil {
			return out, err
		}
		pools[want.Name] = got.(*v1.NodePool)
		res.Imported["NodePool "+want.Name] = true
		if created {
			out.Created = append(out.Created, "NodePool "+want.Name)
		}
	}
	for _, m := range rep.Machines {
		np := pools[m.Pool]
		switch {
		case np == nil:
			out.Left = append(out.Left, m.NodeClaim+": its NodePool "+m.NodePool+" did not convert")
			continue
		case m.Deleting:
			out.Left = append(out.Left, m.NodeClaim+": Karpenter is deleting it")
			continue
		case m.Node == "" || m.ProviderID == "":
			out.Left = append(out.Left, m.NodeClaim+": it has no node yet")
			continue
		}
		var class *v1.EC2NodeClass
		if ref := np.Spec.Template.Spec.NodeClassRef; ref != nil {
			class = classes[ref.Name]
		}
		if err := adoptMachine(ctx, kube, dyn, tags, m, np, class); err != nil {
			return out, fmt.Errorf("adopting %s: %w", m.NodeClaim, err)
		}
		out.Adopted = append(out.Adopted, m.NodeClaim)
	}
	return out, nil
}

// karpenterStopped fails while a Karpenter pod runs.
func karpenterStopped(ctx context.Context, kube client.Client) error {
	var pods corev1.PodList
	sel, err := metav1.ParseToLabelSelector(karpenterPodSelector)
	if err != nil {
		return err
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return err
	}
	if err := kube.List(ctx, &pods, client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return fmt.Errorf("looking for Karpenter's pods: %w", err)
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp.IsZero() && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			return fmt.Errorf("karpenter is running (pod %s/%s): scale it to 0 first (kubectl scale deployment -n %s karpenter --replicas 0), so that it neither launches nor terminates the nodes being adopted",
				p.Namespace, p.Name, p.Namespace)
		}
	}
	return nil
}

// ensure creates want unless an object of its name exists, and returns
// the object in the cluster.
func ensure(ctx context.Context, kube client.Client, kind string, want, got client.Object) (client.Object, bool, error) {
	err := kube.Get(ctx, client.ObjectKeyFromObject(want), got)
	if err == nil {
		return got, false, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, false, fmt.Errorf("reading %s %s: %w", kind, want.GetName(), err)
	}
	if err := kube.Create(ctx, want); err != nil {
		return nil, false, fmt.Errorf("creating %s %s (are nodewright's CRDs installed? apply modules/nodewright first): %w", kind, want.GetName(), err)
	}
	return want, true, nil
}

func adoptMachine(ctx context.Context, kube client.Client, dyn dynamic.Interface, tags TagAPI, m Machine, np *v1.NodePool, class *v1.EC2NodeClass) error {
	id, err := instance.ParseProviderID(m.ProviderID)
	if err != nil {
		return err
	}
	// 1. The claim comes first: from then on nodewright's garbage
	// collection counts the instance as claimed (by the NodeClaim tag).
	if err := kube.Create(ctx, adoptedClaim(m, np, class)); client.IgnoreAlreadyExists(err) != nil {
		return fmt.Errorf("creating nodewright NodeClaim: %w", err)
	}
	// 2.
	instanceTags := []ec2types.Tag{
		{Key: aws.String(v1.NodePoolTagKey), Value: aws.String(np.Name)},
		{Key: aws.String(v1.NodeClaimTagKey), Value: aws.String(m.NodeClaim)},
	}
	if class != nil {
		instanceTags = append(instanceTags, ec2types.Tag{Key: aws.String(v1.EC2NodeClassTagKey), Value: aws.String(class.Name)})
	}
	if _, err := tags.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: instanceTags}); err != nil {
		return fmt.Errorf("tagging instance %s: %w", id, err)
	}
	// 3.
	var node corev1.Node
	if err := kube.Get(ctx, client.ObjectKey{Name: m.Node}, &node); err != nil {
		return fmt.Errorf("reading node %s: %w", m.Node, err)
	}
	stored := node.DeepCopy()
	node.Finalizers = slices.DeleteFunc(node.Finalizers, func(f string) bool { return f == karpenterFinalizer })
	node.OwnerReferences = slices.DeleteFunc(node.OwnerReferences, func(ref metav1.OwnerReference) bool {
		return strings.HasPrefix(ref.APIVersion, "karpenter.sh/")
	})
	if node.Labels == nil {
		node.Labels = map[string]string{}
	}
	node.Labels[v1.NodePoolLabelKey] = np.Name
	if node.Annotations == nil {
		node.Annotations = map[string]string{}
	}
	node.Annotations[v1.AdoptedFromAnnotationKey] = "karpenter.sh NodeClaim " + m.NodeClaim
	if err := kube.Patch(ctx, &node, client.MergeFrom(stored)); err != nil {
		return fmt.Errorf("releasing node %s from Karpenter: %w", m.Node, err)
	}
	// 4.
	claims := dyn.Resource(schema.GroupVersionResource{Group: "karpenter.sh", Version: m.Version, Resource: "nodeclaims"})
	if _, err := claims.Patch(ctx, m.NodeClaim, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing the finalizer of Karpenter's NodeClaim: %w", err)
	}
	if err := claims.Delete(ctx, m.NodeClaim, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting Karpenter's NodeClaim: %w", err)
	}
	return nil
}

// adoptedClaim is the nodewright NodeClaim for a Karpenter one: the pool's
// template (with the pool's and class's hashes of now, so the node is not
// drifted for having been Karpenter's), pinned to the instance's type,
// zone and capacity type. An adopted node is initialized already, so the
// template's startup taints are not expected on it.
func adoptedClaim(m Machine, np *v1.NodePool, class *v1.EC2NodeClass) *v1.NodeClaim {
	nc := nodeclaim.FromTemplate(np)
	nc.Name = m.NodeClaim
	nc.Spec.StartupTaints = nil
	if class != nil {
		nc.Annotations[v1.EC2NodeClassHashAnnotationKey] = class.Hash()
		nc.Annotations[v1.EC2NodeClassHashVersionAnnotationKey] = v1.EC2NodeClassHashVersion
	}
	nc.Annotations[v1.AdoptProviderIDAnnotationKey] = m.ProviderID
	nc.Annotations[v1.AdoptedFromAnnotationKey] = "karpenter.sh NodeClaim " + m.NodeClaim
	nc.Spec.Requirements = []v1.NodeSelectorRequirementWithMinValues{{Key: v1.NodePoolLabelKey, Operator: corev1.NodeSelectorOpIn, Values: []string{np.Name}}}
	for _, r := range []struct{ key, value string }{
		{corev1.LabelInstanceTypeStable, m.InstanceType}, {corev1.LabelTopologyZone, m.Zone}, {v1.CapacityTypeLabelKey, m.CapacityType},
	} {
		if r.value != "" {
			nc.Spec.Requirements = append(nc.Spec.Requirements, v1.NodeSelectorRequirementWithMinValues{Key: r.key, Operator: corev1.NodeSelectorOpIn, Values: []string{r.value}})
		}
	}
	return nc
}
