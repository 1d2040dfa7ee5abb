//go:build tools

// Package karpenter pins real Karpenter's AWS provider (Apache-2.0), built
// unmodified into bin/ for the conformance test (make test-karpenter). It is
// test-only, so it lives in its own module and never enters the product's
// go.mod.
package karpenter

import _ "github.com/aws/karpenter-provider-aws/cmd/controller"
