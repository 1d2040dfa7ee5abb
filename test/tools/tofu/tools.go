//go:build tools

// Package tools pins OpenTofu, built only on machines with neither terraform
// nor tofu on PATH. It is its own module because OpenTofu's replace directive
// must not leak into the Kubernetes tool graph.
package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"
