// Command moduledocs rewrites the generated tables of every module README.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nodewright/nodewright/test/moduledocs"
)

func main() {
	dirs, _ := filepath.Glob("modules/*")
	for _, dir := range dirs {
		tables, err := moduledocs.Tables(dir)
		if err != nil {
			fail(err)
		}
		path := filepath.Join(dir, "README.md")
		old, err := os.ReadFile(path)
		if err != nil {
			fail(err)
		}
		out, err := moduledocs.Render(string(old), tables)
		if err != nil {
			fail(fmt.Errorf("%s: %w", path, err))
		}
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "moduledocs:", err)
	os.Exit(1)
}
