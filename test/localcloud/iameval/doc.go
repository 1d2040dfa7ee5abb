// Package iameval is the policy engine behind the local AWS emulator's
// authorization: it parses IAM policy documents and decides whether one
// request is allowed, the way AWS does for principals and resources in a
// single account. It has no AWS or HTTP clients in it.
//
// The semantics are taken from these pages of the AWS IAM User Guide:
//
//   - "Policy evaluation logic", "Policy evaluation for requests within a
//     single account" and "How AWS enforcement code logic evaluates requests
//     to allow or deny access" (how identity, boundary, session and
//     resource-based policies combine; which principal types a resource-based
//     allow reaches past implicit denies for).
//   - "IAM JSON policy elements": Principal, NotPrincipal, Action, NotAction,
//     Resource, NotResource, Condition.
//   - "IAM JSON policy elements: Condition operators" and "Conditions with
//     multiple context keys or values" (missing keys, IfExists, Null,
//     negated operators taking NOR over their values).
//   - "Single-valued vs. multivalued context keys" (ForAllValues/ForAnyValue).
//   - "IAM policy elements: Variables and tags" (${...}, defaults, ${*}).
//   - The STS AssumeRole API reference for who must allow a same-account
//     AssumeRole.
//
// Where those pages leave a case open, the choice is documented next to the
// code that makes it. Parse errors carry the wording of IAM's
// MalformedPolicyDocument messages so the emulator can return them verbatim.
package iameval
