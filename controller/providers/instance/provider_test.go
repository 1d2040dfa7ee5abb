package instance

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/cloudprovider"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
	"github.com/nodewright/nodewright/controller/providers/cache"
)

// fakeEC2 knows one terminated instance, i-gone, and those in states;
// TerminateInstances moves one to shutting-down and is counted. It answers
// every fleet with fleetErrors.
type fakeEC2 struct {
	fleets      int
	fleetErrors []ec2types.CreateFleetError
	states      map[string]ec2types.InstanceStateName
	terminates  int
}

func (f *fakeEC2) state(id string) (ec2types.InstanceStateName, bool) {
	if id == "i-gone" {
		return ec2types.InstanceStateNameTerminated, true
	}
	s, ok := f.states[id]
	return s, ok
}

func (f *fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	id := in.InstanceIds[0]
	state, ok := f.state(id)
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound"}
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{{InstanceId: aws.String(id),
		State: &ec2types.InstanceState{Name: state}}}}}}, nil
}

func (f *fakeEC2) TerminateInstances(_ context.Context, in *ec2.TerminateInstancesInput, _ ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	f.terminates++
	id := in.InstanceIds[0]
	state, ok := f.state(id)
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound"}
	}
	if state != ec2types.InstanceStateNameTerminated {
		f.states[id] = ec2types.InstanceStateNameShuttingDown
	}
	return &ec2.TerminateInstancesOutput{TerminatingInstances: []ec2types.InstanceStateChange{{InstanceId: aws.String(id),
		PreviousState: &ec2types.InstanceState{Name: state}}}}, nil
}

func (f *fakeEC2) CreateFleet(context.Context, *ec2.CreateFleetInput, ...func(*ec2.Options)) (*ec2.CreateFleetOutput, error) {
	f.fleets++
	return &ec2.CreateFleetOutput{Errors: f.fleetErrors}, nil
}

// templates is a launchtemplate.Provider that names one template per image.
type templates struct{}

func (templates) Ensure(_ context.Context, _ *v1.EC2NodeClass, imageID, _ string) (string, error) {
	return "lt-" + imageID, nil
}
func (templates) Invalidate(string)                                        {}
func (templates) Delete(context.Context, string) (int, error)              { return 0, nil }
func (templates) UserData(*v1.NodeClaim, *v1.EC2NodeClass) (string, error) { return "", nil }

func TestGoneInstancesAreNotFound(t *testing.T) {
	p := NewDefaultProvider(Options{ClusterName: "test", MaxFleetOverrides: 60}, &fakeEC2{}, templates{}, nil)
	ctx := context.Background()
	for _, id := range []string{"i-gone", "i-never"} {
		if _, err := p.Get(ctx, id); !cloudprovider.IsNodeClaimNotFoundError(err) {
			t.Errorf("Get(%s) = %v, want not found", id, err)
		}
		if err := p.Delete(ctx, id); !cloudprovider.IsNodeClaimNotFoundError(err) {
			t.Errorf("Delete(%s) = %v, want not found", id, err)
		}
	}
}

// Both the Node's termination and the claim's finalizer delete every
// instance that goes: only the first asks EC2 to terminate it, and the
// second hears it is gone.
func TestDeleteTerminatesOnce(t *testing.T) {
	f := &fakeEC2{states: map[string]ec2types.InstanceStateName{"i-running": ec2types.InstanceStateNameRunning}}
	p := NewDefaultProvider(Options{ClusterName: "test", MaxFleetOverrides: 60}, f, templates{}, nil)
	ctx := context.Background()
	if err := p.Delete(ctx, "i-running"); err != nil {
		t.Fatalf("first Delete: %v", err)
	}
	if err := p.Delete(ctx, "i-running"); !cloudprovider.IsNodeClaimNotFoundError(err) {
		t.Errorf("second Delete of a shutting-down instance = %v, want not found", err)
	}
	if f.terminates != 1 {
		t.Errorf("%d TerminateInstances calls for two Deletes of one instance, want 1", f.terminates)
	}
}

// A fleet that finds no capacity in any pool is an
// InsufficientCapacityError, and the pools it names are marked unavailable.
func TestCreateMarksPoolsWithoutCapacity(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	ice := cache.NewUnavailableOfferings(clk, time.Minute)
	f := &fakeEC2{fleetErrors: []ec2types.CreateFleetError{{ErrorCode: aws.String("InsufficientInstanceCapacity"),
		LaunchTemplateAndOverrides: &ec2types.LaunchTemplateAndOverridesResponse{Overrides: &ec2types.FleetLaunchTemplateOverrides{
			InstanceType: "m5.large", SubnetId: aws.String("subnet-a")}}}}}
	p := NewDefaultProvider(Options{ClusterName: "test", MaxFleetOverrides: 60}, f, templates{}, ice)
	nodeClass := &v1.EC2NodeClass{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Status: v1.EC2NodeClassStatus{
		Subnets: []v1.Subnet{{ID: "subnet-a", Zone: "us-east-1a"}},
		AMIs:    []v1.AMI{{ID: "ami-1", Requirements: []corev1.NodeSelectorRequirement{{Key: corev1.LabelArchStable, Operator: corev1.NodeSelectorOpIn, Values: []string{"amd64"}}}}}}}
	m5 := &scheduling.InstanceType{Name: "m5.large", Labels: map[string]string{corev1.LabelArchStable: "amd64"},
		Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
		Offerings:   []scheduling.Offering{{Zone: "us-east-1a", CapacityType: v1.CapacityTypeOnDemand, Price: 0.096, Available: true}}}
	nc := &v1.NodeClaim{ObjectMeta: metav1.ObjectMeta{Name: "default-x", UID: "uid"}}
	_, err := p.Create(context.Background(), nc, nodeClass, []*scheduling.InstanceType{m5})
	if !cloudprovider.IsInsufficientCapacityError(err) || f.fleets != 1 {
		t.Fatalf("Create = %v after %d fleets, want InsufficientCapacityError after 1", err, f.fleets)
	}
	if !ice.Unavailable("m5.large", "us-east-1a", v1.CapacityTypeOnDemand) {
		t.Error("the pool the fleet found without capacity is still available")
	}
}
