package v1_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/nodewright/nodewright/test/localcloud"
)

// cloud is the control plane the validation tests install the CRDs into;
// nil when -short is given or the binaries aren't built, and those tests
// skip.
var cloud *localcloud.Cloud

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	bin, err := localcloud.DefaultBinDir()
	if err == nil {
		_, err = os.Stat(filepath.Join(bin, "kube-apiserver"))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "no control plane binaries (%v): CRD validation tests will skip; run `make tools` or set NODEWRIGHT_BIN_DIR\n", err)
		os.Exit(m.Run())
	}
	os.Exit(localcloud.RunMain(m, func(c *localcloud.Cloud) { cloud = c }))
}
