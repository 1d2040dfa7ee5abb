// Package cloudprovider is the narrow edge between nodewright's controllers
// and a cloud: launch, look up, list and terminate the instance behind a
// NodeClaim, and describe the instance types a NodePool may use.
// It holds the interface and its errors only, no I/O; awscloud implements
// it for EC2 and fake for tests.
package cloudprovider

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/controller/engine/scheduling"
)

// CloudProvider launches and terminates instances for NodeClaims.
type CloudProvider interface {
	// Create launches an instance for the NodeClaim, choosing among the
	// offerings its requirements allow (cheapest first), and returns a copy
	// of it with status.providerID, status.imageID, status.capacity and
	// status.allocatable set, and the instance-type, zone and capacity-type
	// labels added. It is idempotent per NodeClaim (the UID is the launch's
	// client token): a retried Create returns the same instance. It returns an
	// *InsufficientCapacityError when no offering has capacity, and a
	// *NodeClassNotReadyError when the node class can't be resolved yet.
	Create(ctx context.Context, nc *v1.NodeClaim) (*v1.NodeClaim, error)
	// Get returns the instance behind providerID as a NodeClaim (status and
	// labels as Create sets them). It returns a *NodeClaimNotFoundError when
	// the instance is gone or terminated.
	Get(ctx context.Context, providerID string) (*v1.NodeClaim, error)
	// List returns every instance this cluster launched that is not
	// terminated, with the NodeClaim name from its tags when it has one.
	List(ctx context.Context) ([]*v1.NodeClaim, error)
	// Delete terminates the NodeClaim's instance. It returns a
	// *NodeClaimNotFoundError when the instance is already gone or already
	// terminating, which callers treat as success; so a second Delete of
	// one instance asks the cloud to terminate nothing.
	Delete(ctx context.Context, nc *v1.NodeClaim) error
	// InstanceTypes are the instance types, with offerings and prices, that
	// the NodePool's node class can launch.
	InstanceTypes(ctx context.Context, np *v1.NodePool) ([]*scheduling.InstanceType, error)
	// NodeVolumeCost is the $/h of the volumes each of the NodePool's nodes
	// launches with (scheduling.NodeCost.Volumes). With an error the number
	// is what could be priced, a lower bound (0 when nothing could): callers
	// use it and report the error rather than drop the pool.
	NodeVolumeCost(ctx context.Context, np *v1.NodePool) (float64, error)
	// MarkUnavailable makes the (instance type, zone, capacity type)
	// offering show unavailable, and launches skip it, for ttl: an
	// interruption warning says that pool is short of capacity.
	MarkUnavailable(instanceType, zone, capacityType string, ttl time.Duration)
	// Name names the provider in logs and metrics.
	Name() string
}

// NodeClaimNotFoundError says an instance does not exist (any more).
type NodeClaimNotFoundError struct{ Err error }

func (e *NodeClaimNotFoundError) Error() string { return fmt.Sprintf("nodeclaim not found: %v", e.Err) }
func (e *NodeClaimNotFoundError) Unwrap() error { return e.Err }

// NewNodeClaimNotFoundError wraps err.
func NewNodeClaimNotFoundError(err error) error { return &NodeClaimNotFoundError{Err: err} }

// IsNodeClaimNotFoundError reports whether err is, or wraps, a NodeClaimNotFoundError.
func IsNodeClaimNotFoundError(err error) bool {
	var e *NodeClaimNotFoundError
	return errors.As(err, &e)
}

// IgnoreNodeClaimNotFoundError returns nil for not-found errors.
func IgnoreNodeClaimNotFoundError(err error) error {
	if IsNodeClaimNotFoundError(err) {
		return nil
	}
	return err
}

// InsufficientCapacityError says no offering the NodeClaim allows has
// capacity right now; the pools tried are marked unavailable for a while.
type InsufficientCapacityError struct{ Err error }

func (e *InsufficientCapacityError) Error() string {
	return fmt.Sprintf("insufficient capacity: %v", e.Err)
}
func (e *InsufficientCapacityError) Unwrap() error { return e.Err }

// IsInsufficientCapacityError reports whether err is, or wraps, one.
func IsInsufficientCapacityError(err error) bool {
	var e *InsufficientCapacityError
	return errors.As(err, &e)
}

// NodeClassNotReadyError says the node class has not resolved yet.
type NodeClassNotReadyError struct{ Err error }

func (e *NodeClassNotReadyError) Error() string {
	return fmt.Sprintf("node class not ready: %v", e.Err)
}
func (e *NodeClassNotReadyError) Unwrap() error { return e.Err }
