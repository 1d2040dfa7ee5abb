// Command providerdocs regenerates terraform-provider/docs (`make docs`).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nodewright/nodewright/terraform-provider/tools/providerdocs"
)

// main runs from the repository root, as make does.
func main() {
	root, err := os.Getwd()
	if err != nil {
		fail(err)
	}
	if _, err := os.Stat(filepath.Join(root, "terraform-provider", "main.go")); err != nil {
		fail(fmt.Errorf("run from the repository root: %w", err))
	}
	err = providerdocs.Generate(context.Background(), providerdocs.Options{
		Root:         root,
		Terraform:    providerdocs.TerraformBinary(),
		Tfplugindocs: providerdocs.TfplugindocsBinary(root),
		Out:          filepath.Join(root, "terraform-provider", "docs"),
	})
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "providerdocs:", err)
	os.Exit(1)
}
