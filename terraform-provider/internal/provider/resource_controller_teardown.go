package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider/awscloud"
	"github.com/nodewright/nodewright/controller/crds"
)

func parseQuantity(s string) (resource.Quantity, error) { return resource.ParseQuantity(s) }

// pollInterval is how often rollouts and teardown look at the cluster.
const pollInterval = time.Second

// poll calls done until it reports true, fails, or timeout passes; it
// returns false (and no error) on timeout.
func poll(ctx context.Context, timeout time.Duration, done func(context.Context) (bool, error)) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done(ctx)
		if err != nil || ok {
			return ok, err
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// waitForRollout waits until the Deployment has replicas available pods of
// its current template, and otherwise says what its pods are doing.
func waitForRollout(ctx context.Context, c client.Client, ns string, replicas int32, timeout time.Duration) error {
	dep := &appsv1.Deployment{}
	ok, err := poll(ctx, timeout, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: controllerName}, dep); err != nil {
			return false, fmt.Errorf("reading Deployment %s/%s: %w", ns, controllerName, err)
		}
		st := dep.Status
		return st.ObservedGeneration >= dep.Generation && st.UpdatedReplicas == replicas &&
			st.AvailableReplicas == replicas && st.Replicas == replicas, nil
	})
	if err != nil || ok {
		return err
	}
	return fmt.Errorf("Deployment %s/%s did not become available within %s (%d/%d replicas available, %d updated).\n%s\n"+
		"Check the image can be pulled, the pods fit a node that tolerates them, and the controller's log (kubectl -n %s logs deploy/%s).",
		ns, controllerName, timeout, dep.Status.AvailableReplicas, replicas, dep.Status.UpdatedReplicas, podsSummary(ctx, c, ns), ns, controllerName)
}

// podsSummary describes the controller pods' last status, for errors.
func podsSummary(ctx context.Context, c client.Client, ns string) string {
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(selectorLabels())); err != nil {
		return fmt.Sprintf("(listing pods: %v)", err)
	}
	if len(pods.Items) == 0 {
		return "No pods exist: check the ReplicaSet's events (kubectl -n " + ns + " describe rs)."
	}
	var b strings.Builder
	for _, p := range pods.Items {
		fmt.Fprintf(&b, "pod %s: phase %s", p.Name, p.Status.Phase)
		if p.Spec.NodeName == "" {
			b.WriteString(", not scheduled")
		}
		for _, cond := range p.Status.Conditions {
			if cond.Status != corev1.ConditionTrue && cond.Message != "" {
				fmt.Fprintf(&b, ", %s: %s", cond.Type, cond.Message)
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			switch {
			case cs.State.Waiting != nil:
				fmt.Fprintf(&b, ", container %s waiting: %s %s", cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
			case cs.State.Terminated != nil:
				fmt.Fprintf(&b, ", container %s terminated: %s (exit %d)", cs.Name, cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
			}
			if t := cs.LastTerminationState.Terminated; t != nil {
				fmt.Fprintf(&b, ", last exit %d (%s) after %d restarts", t.ExitCode, t.Reason, cs.RestartCount)
			}
		}
		b.WriteString("\n")
	}
	return strings.TrimSpace(b.String())
}

// teardown removes everything nodewright made before removing nodewright:
// nodes (through the running controller when it can), node classes, launch
// templates and instance profiles, and then the controller and its CRDs.
func (r *controllerResource) teardown(ctx context.Context, m *controllerModel, timeout time.Duration, diags *diag.Diagnostics) {
	c, err := r.kubeClient(ctx)
	if err != nil {
		diags.AddError("Connecting to the cluster", err.Error())
		return
	}
	ns, cluster := m.Namespace.ValueString(), m.ClusterName.ValueString()
	start := time.Now()
	left := func() time.Duration { return max(timeout-time.Since(start), 0) }
	fail := func(summary string, err error) {
		diags.AddError(summary, err.Error())
	}

	// 1. NodePools go first, so that nothing new launches and the
	// controller drains and terminates their nodes.
	crdsPresent := true
	var pools v1.NodePoolList
	if err := c.List(ctx, &pools); meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
		crdsPresent = false
	} else if err != nil {
		fail("Listing NodePools", err)
		return
	}
	if crdsPresent {
		for i := range pools.Items {
			if err := c.Delete(ctx, &pools.Items[i]); client.IgnoreNotFound(err) != nil {
				fail("Deleting NodePool "+pools.Items[i].Name, err)
				return
			}
		}
		// 2. NodeClaims carry no owner reference to their NodePool, so they
		// are deleted explicitly; their termination finalizer makes the
		// controller drain the node and terminate the instance. Without a
		// running controller nobody will, so do not wait for it.
		var claims v1.NodeClaimList
		if err := c.List(ctx, &claims); err != nil {
			fail("Listing NodeClaims", err)
			return
		}
		tflog.Info(ctx, "deleting nodeclaims", map[string]any{"count": len(claims.Items)})
		for i := range claims.Items {
			if err := c.Delete(ctx, &claims.Items[i]); client.IgnoreNotFound(err) != nil {
				fail("Deleting NodeClaim "+claims.Items[i].Name, err)
				return
			}
		}
		wait := left() * 3 / 4
		if !controllerRunning(ctx, c, ns) {
			wait = 0
		}
		gone, err := poll(ctx, wait, func(ctx context.Context) (bool, error) {
			var claims v1.NodeClaimList
			if err := c.List(ctx, &claims); err != nil {
				return false, err
			}
			return len(claims.Items) == 0, nil
		})
		if err != nil {
			fail("Waiting for NodeClaims to be deleted", err)
			return
		}
		tflog.Info(ctx, "nodeclaims after deleting nodepools", map[string]any{"gone": gone, "waited": time.Since(start).String(), "controller_running": wait > 0})
		if !gone {
			// 3. Finish what the controller did not.
			if err := r.forceRemoveNodes(ctx, c, cluster); err != nil {
				r.reportLeft(ctx, c, cluster, diags, fmt.Errorf("NodeClaims remained after waiting and removing them failed: %w", err))
				return
			}
		}
		// 4. Node classes; their finalizer (run by the controller) deletes
		// launch templates and instance profiles.
		var classes v1.EC2NodeClassList
		if err := c.List(ctx, &classes); err != nil {
			fail("Listing EC2NodeClasses", err)
			return
		}
		for i := range classes.Items {
			if err := c.Delete(ctx, &classes.Items[i]); client.IgnoreNotFound(err) != nil {
				fail("Deleting EC2NodeClass "+classes.Items[i].Name, err)
				return
			}
		}
		wait = max(left(), 10*time.Second)
		if !controllerRunning(ctx, c, ns) {
			wait = 0
		}
		gone, err = poll(ctx, wait, func(ctx context.Context) (bool, error) {
			var l v1.EC2NodeClassList
			err := c.List(ctx, &l)
			return err == nil && len(l.Items) == 0, err
		})
		if err != nil {
			fail("Waiting for EC2NodeClasses to be deleted", err)
			return
		}
		tflog.Info(ctx, "ec2nodeclasses deleted", map[string]any{"gone": gone, "elapsed": time.Since(start).String()})
		if !gone {
			var l v1.EC2NodeClassList
			if err := c.List(ctx, &l); err == nil {
				for i := range l.Items {
					if err := removeFinalizers(ctx, c, &l.Items[i]); err != nil {
						fail("Removing the finalizer of EC2NodeClass "+l.Items[i].Name, err)
						return
					}
				}
			}
		}
	}

	// 5. AWS leftovers the finalizers may not have caught.
	if err := r.deleteAWSLeftovers(ctx, cluster); err != nil {
		r.reportLeft(ctx, c, cluster, diags, err)
		return
	}

	// 6. The controller itself, then the CRDs.
	objs := controllerAllObjects(ns)
	for i := len(objs) - 1; i >= 0; i-- {
		if err := c.Delete(ctx, objs[i], client.PropagationPolicy(metav1.DeletePropagationForeground)); client.IgnoreNotFound(err) != nil {
			fail(fmt.Sprintf("Deleting %s %s", kindOf(c, objs[i]), client.ObjectKeyFromObject(objs[i])), err)
			return
		}
		if _, isDeployment := objs[i].(*appsv1.Deployment); !isDeployment {
			continue
		}
		// A terminating controller still calls the API: keep its RBAC
		// until its pods are gone, so it shuts down cleanly.
		_, err := poll(ctx, max(left(), time.Minute), func(ctx context.Context) (bool, error) {
			var pods corev1.PodList
			err := c.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(selectorLabels()))
			return err == nil && len(pods.Items) == 0, err
		})
		if err != nil {
			fail("Waiting for the controller pods to stop", err)
			return
		}
	}
	gone, err := poll(ctx, max(left(), time.Minute), func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	if err != nil || !gone {
		fail("Deleting namespace "+ns, fmt.Errorf("namespace %s is still terminating (err=%v); check `kubectl get ns %s -o yaml` for what blocks it", ns, err, ns))
		return
	}
	objsCRD, err := crds.Objects()
	if err != nil {
		fail("Reading the embedded CRDs", err)
		return
	}
	for _, o := range objsCRD {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(o.GroupVersionKind())
		u.SetName(o.GetName())
		if err := c.Delete(ctx, u); client.IgnoreNotFound(err) != nil {
			fail("Deleting CRD "+o.GetName(), err)
			return
		}
	}
	// CRD deletion finishes asynchronously, after the apiserver removed
	// every custom resource; a re-install meanwhile would fail.
	for _, o := range objsCRD {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(o.GroupVersionKind())
		gone, err := poll(ctx, max(left(), time.Minute), func(ctx context.Context) (bool, error) {
			err := c.Get(ctx, client.ObjectKey{Name: o.GetName()}, u)
			return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
		})
		if err != nil || !gone {
			fail("Deleting CRD "+o.GetName(), fmt.Errorf("CRD %s is still being deleted (err=%v); check its status conditions (kubectl get crd %s -o yaml)", o.GetName(), err, o.GetName()))
			return
		}
	}
}

// controllerRunning says whether a controller replica is available to run
// finalizers.
func controllerRunning(ctx context.Context, c client.Client, ns string) bool {
	dep := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: controllerName}, dep); err != nil {
		return false
	}
	return dep.DeletionTimestamp == nil && dep.Status.AvailableReplicas > 0
}

func removeFinalizers(ctx context.Context, c client.Client, obj client.Object) error {
	if len(obj.GetFinalizers()) == 0 {
		return nil
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	obj.SetFinalizers(nil)
	return client.IgnoreNotFound(c.Patch(ctx, obj, patch))
}

// forceRemoveNodes terminates the cluster's nodewright instances and lets
// go of the NodeClaims and Nodes that stood for them.
func (r *controllerResource) forceRemoveNodes(ctx context.Context, c client.Client, cluster string) error {
	ids, err := r.managedInstances(ctx, cluster)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		if _, err := ec2.NewFromConfig(r.data.AWS).TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
			return fmt.Errorf("terminating instances %v: %w", ids, err)
		}
	}
	var claims v1.NodeClaimList
	if err := c.List(ctx, &claims); err != nil {
		return err
	}
	for i := range claims.Items {
		nc := &claims.Items[i]
		if err := c.Delete(ctx, nc); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting NodeClaim %s: %w", nc.Name, err)
		}
		if err := removeFinalizers(ctx, c, nc); err != nil {
			return fmt.Errorf("removing the finalizer of NodeClaim %s: %w", nc.Name, err)
		}
	}
	var nodes corev1.NodeList
	if err := c.List(ctx, &nodes, client.HasLabels{v1.NodePoolLabelKey}); err != nil {
		return err
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		if err := removeFinalizers(ctx, c, n); err != nil {
			return fmt.Errorf("removing the finalizer of Node %s: %w", n.Name, err)
		}
		if err := c.Delete(ctx, n); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting Node %s: %w", n.Name, err)
		}
	}
	return nil
}

// managedInstances lists live instances nodewright launched for cluster.
func (r *controllerResource) managedInstances(ctx context.Context, cluster string) ([]string, error) {
	pages := ec2.NewDescribeInstancesPaginator(ec2.NewFromConfig(r.data.AWS), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:kubernetes.io/cluster/" + cluster), Values: []string{"owned"}},
		{Name: aws.String("tag-key"), Values: []string{v1.NodePoolLabelKey}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}},
	}})
	var ids []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describing the cluster's instances: %w", err)
		}
		for _, res := range page.Reservations {
			for _, in := range res.Instances {
				ids = append(ids, aws.ToString(in.InstanceId))
			}
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// deleteAWSLeftovers removes launch templates and instance profiles
// nodewright made for the cluster that no node class finalizer removed.
func (r *controllerResource) deleteAWSLeftovers(ctx context.Context, cluster string) error {
	p, err := awscloud.New(r.data.AWS, awscloud.Options{ClusterName: cluster, MaxAttempts: 3})
	if err != nil {
		return err
	}
	if _, err := p.DeleteLaunchTemplates(ctx, ""); err != nil {
		return fmt.Errorf("deleting the cluster's launch templates: %w", err)
	}
	ic := iam.NewFromConfig(r.data.AWS)
	pages := iam.NewListInstanceProfilesPaginator(ic, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/nodewright/")})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing instance profiles under /nodewright/: %w", err)
		}
		for _, prof := range page.InstanceProfiles {
			name := aws.ToString(prof.InstanceProfileName)
			if !strings.HasPrefix(name, cluster+"_") {
				continue
			}
			for _, role := range prof.Roles {
				if _, err := ic.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: role.RoleName}); err != nil && !isCode(err, "NoSuchEntity") {
					return fmt.Errorf("removing role %s from instance profile %s: %w", aws.ToString(role.RoleName), name, err)
				}
			}
			if _, err := ic.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(name)}); err != nil && !isCode(err, "NoSuchEntity") {
				return fmt.Errorf("deleting instance profile %s: %w", name, err)
			}
		}
	}
	return nil
}

// reportLeft fails destroy with what is left and how to finish by hand.
func (r *controllerResource) reportLeft(ctx context.Context, c client.Client, cluster string, diags *diag.Diagnostics, cause error) {
	var b strings.Builder
	var claims v1.NodeClaimList
	if err := c.List(ctx, &claims); err == nil && len(claims.Items) > 0 {
		names := make([]string, 0, len(claims.Items))
		for _, nc := range claims.Items {
			names = append(names, nc.Name)
		}
		fmt.Fprintf(&b, "NodeClaims left: %s\n", strings.Join(names, ", "))
	}
	if ids, err := r.managedInstances(ctx, cluster); err == nil && len(ids) > 0 {
		fmt.Fprintf(&b, "Instances left: %s\n", strings.Join(ids, ", "))
	}
	out, err := ec2.NewFromConfig(r.data.AWS).DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:kubernetes.io/cluster/" + cluster), Values: []string{"owned"}}}})
	if err == nil && len(out.LaunchTemplates) > 0 {
		var names []string
		for _, lt := range out.LaunchTemplates {
			names = append(names, aws.ToString(lt.LaunchTemplateName))
		}
		fmt.Fprintf(&b, "Launch templates left: %s\n", strings.Join(names, ", "))
	}
	diags.AddError("Tearing down the nodewright controller", fmt.Sprintf("%v\n%s"+
		"The controller is still installed. Fix the cause (AWS permissions of the provider, or a stuck finalizer), terminate the instances tagged kubernetes.io/cluster/%s=owned and %s, and run destroy again; a longer delete_timeout gives the controller more time.",
		cause, b.String(), cluster, v1.NodePoolLabelKey))
}
