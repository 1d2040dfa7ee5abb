// Package test builds the objects nodewright's tests need (Pods, Nodes,
// NodePools, NodeClaims, EC2NodeClasses, instance types) and starts the
// local cloud a controller test package shares, as Karpenter's pkg/test
// does. Each builder takes an options struct whose zero value is a minimal
// valid object, so a test spells out only what it is about.
//
// Only tests import it. It may import the scheduling engine (for instance
// types), so the engine's own internal tests cannot use it; they keep their
// builders in the package, where they need unexported access anyway.
package test
