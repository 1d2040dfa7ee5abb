package localcloud

import (
	"context"
	"os"
	"testing"
)

// Start brings up a local cloud for one test, in a fresh state directory,
// and stops it when the test ends, pass or fail. Components are attached to
// the test binary, so even a killed test leaves no process behind.
// NODEWRIGHT_PROFILE=realistic makes instances boot in ~30 s instead of ~3 s,
// to rerun timing-sensitive tests under EC2-like latencies.
func Start(t testing.TB) *Cloud {
	t.Helper()
	c, err := Up(context.Background(), Options{Dir: t.TempDir(), Progress: testWriter{t}, Profile: os.Getenv("NODEWRIGHT_PROFILE")})
	if err != nil {
		t.Fatalf("starting local cloud: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range componentOrder {
				if p := c.Process(name); p != nil {
					t.Logf("---- %s log tail (%s)\n%s", name, p.Log, p.LogTail(30))
				}
			}
		}
		if err := c.Down(); err != nil {
			t.Errorf("stopping local cloud: %v", err)
		}
	})
	return c
}

// RunMain starts one local cloud for a whole test package: call it from
// TestMain. The cloud is stopped before the process exits, whatever m.Run
// returns.
func RunMain(m *testing.M, use func(*Cloud)) int {
	dir, err := os.MkdirTemp("", "localcloud-")
	if err != nil {
		println("localcloud:", err.Error())
		return 1
	}
	defer os.RemoveAll(dir)
	c, err := Up(context.Background(), Options{Dir: dir, Progress: os.Stderr})
	if err != nil {
		println("localcloud:", err.Error())
		return 1
	}
	defer c.Down()
	use(c)
	return m.Run()
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
