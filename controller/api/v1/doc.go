// Package v1 holds nodewright's APIs: NodePool and NodeClaim, which describe
// what nodes may be launched and what was launched, and EC2NodeClass, which
// says how to launch them on EC2. Validation lives in the CRDs generated from
// these types (OpenAPI and CEL), so the apiserver rejects bad objects before
// the controller ever sees them.
// It is pure: types, defaults and validation markers, no client.
//
// +kubebuilder:object:generate=true
// +groupName=nodewright.dev
package v1
