package convert

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nodewright/nodewright/controller/test"
)

// TestConvertedObjectsPassTheCRDs sends every converted fixture, its
// placeholders set, to a real apiserver with nodewright's CRDs (OpenAPI
// and CEL validation) as a server-side dry run. Every object must be
// accepted, except a node class the conversion said needs a role, which
// must be refused for it.
func TestConvertedObjectsPassTheCRDs(t *testing.T) {
	env := test.Start(t)
	ctx := context.Background()
	files, _ := filepath.Glob("testdata/karpenter/*.yaml")
	accepted := 0
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			res, _ := convertFile(t, path, Options{Set: set})
			var objs []client.Object
			for _, nc := range res.NodeClasses {
				objs = append(objs, nc)
			}
			for _, np := range res.NodePools {
				objs = append(objs, np)
			}
			for _, obj := range objs {
				kind := obj.GetObjectKind().GroupVersionKind().Kind
				err := env.Client.Create(ctx, obj, client.DryRunAll)
				needsRole := false
				for _, f := range res.FindingsFor(res.Sources[kind+" "+obj.GetName()]) {
					needsRole = needsRole || kind == "EC2NodeClass" && f.Field == "spec.role"
				}
				switch {
				case err == nil && !needsRole:
					accepted++
				case err == nil:
					t.Errorf("%s %s has no role or instance profile, yet the CRD accepts it", kind, obj.GetName())
				case needsRole && strings.Contains(err.Error(), "role"):
					t.Logf("%s %s refused for its role, as its finding says: %v", kind, obj.GetName(), err)
				default:
					t.Errorf("%s %s: the CRD refuses the conversion: %v", kind, obj.GetName(), err)
				}
			}
		})
	}
	if accepted == 0 {
		t.Fatal("the apiserver accepted no converted object")
	}
	t.Logf("%d converted objects accepted", accepted)
}
