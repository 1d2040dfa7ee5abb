package localcloud

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
)

// TestUpRetriesWhenAPortIsTaken: a port that was free when chosen but is
// taken when its component binds it makes Up start again on a fresh port,
// not fail.
func TestUpRetriesWhenAPortIsTaken(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	dir := t.TempDir()
	first, err := Up(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	stolen := first.state.Ports[AWS]
	if err := first.Down(); err != nil {
		t.Fatal(err)
	}
	// Take the AWS endpoint's port, and let allocatePorts believe it is free.
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(stolen)))
	if err != nil {
		t.Skipf("port %d was reused before the test could hold it: %v", stolen, err)
	}
	defer l.Close()
	real := portFree
	portFree = func(port int) bool { return port == stolen || real(port) }
	defer func() { portFree = real }()

	var progress strings.Builder
	c, err := Up(context.Background(), Options{Dir: dir, Progress: &progress})
	if err != nil {
		t.Fatalf("Up did not recover from a taken port: %v", err)
	}
	t.Cleanup(func() { _ = c.Down() })
	if got := c.state.Ports[AWS]; got == stolen {
		t.Errorf("the AWS endpoint kept the taken port %d", got)
	}
	if !strings.Contains(progress.String(), "aws: its port was taken") {
		t.Errorf("Up should say why it started again; progress:\n%s", progress.String())
	}
	statuses, err := Status(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range statuses {
		if !st.Running {
			t.Errorf("%s is not running after the retry: %+v", st.Name, st)
		}
	}
}
