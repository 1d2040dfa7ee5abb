package providerdocs

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestProviderDocsAreCurrent regenerates the docs into a temporary directory
// and compares them, file by file, with terraform-provider/docs.
func TestProviderDocsAreCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the provider and runs terraform and tfplugindocs")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	docs := TfplugindocsBinary(root)
	if _, err := os.Stat(docs); err != nil {
		t.Fatalf("%s is missing: run `make tools` (make test does)", docs)
	}
	out := filepath.Join(t.TempDir(), "docs")
	err = Generate(context.Background(), Options{Root: root, Terraform: TerraformBinary(), Tfplugindocs: docs, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	want, err := readTree(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 10 {
		t.Fatalf("generated only %d files: %v", len(want), keys(want))
	}
	got, err := readTree(filepath.Join(root, "terraform-provider", "docs"))
	if err != nil {
		t.Fatal(err)
	}
	var stale []string
	for name, w := range want {
		if g, ok := got[name]; !ok {
			stale = append(stale, name+" (missing)")
		} else if !bytes.Equal(g, w) {
			stale = append(stale, name+" (differs)")
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			stale = append(stale, name+" (no longer generated)")
		}
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		t.Errorf("provider docs are stale: run make docs\n%v", stale)
	}
}

// readTree maps every file under dir, by relative path, to its contents.
func readTree(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	return files, err
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
