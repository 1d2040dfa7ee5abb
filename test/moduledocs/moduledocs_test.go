package moduledocs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestModuleREADMEsAreCurrent fails when a module's variables or outputs
// changed without `make docs`.
func TestModuleREADMEsAreCurrent(t *testing.T) {
	dirs, _ := filepath.Glob("../../modules/*")
	if len(dirs) == 0 {
		t.Fatal("no modules found")
	}
	for _, dir := range dirs {
		tables, err := Tables(dir)
		if err != nil {
			t.Fatal(err)
		}
		readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := Render(string(readme), tables)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if want != string(readme) {
			t.Errorf("%s/README.md is stale: run `make docs`", dir)
		}
	}
}
