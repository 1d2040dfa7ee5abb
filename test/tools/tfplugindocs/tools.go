//go:build tools

// Package tools pins tfplugindocs, which generates terraform-provider/docs.
// It has its own module so its dependencies never move the root module's.
package tools

import _ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
