package localcloud

import (
	"fmt"
	"net"
	"strconv"
)

// portTakenError says a component exited at start-up because its port was
// already in use.
type portTakenError struct {
	component string
	err       error
}

func (e *portTakenError) Error() string { return e.err.Error() }
func (e *portTakenError) Unwrap() error { return e.err }

// releasePorts forgets a component's ports so the next start picks new
// ones. (etcd fails to bind before it writes any data, so its directory
// needs no reset.)
func (c *Cloud) releasePorts(component string) {
	if component == Etcd {
		delete(c.state.Ports, "etcd-client")
		delete(c.state.Ports, "etcd-peer")
		return
	}
	delete(c.state.Ports, component)
}

// allocatePorts reuses last run's ports where they are still free.
func (c *Cloud) allocatePorts() error {
	for _, name := range []string{"etcd-client", "etcd-peer", APIServer, ControllerManager, Scheduler, Kwok, Registry, AWS} {
		if port, ok := c.state.Ports[name]; ok && portFree(port) {
			continue
		}
		port, err := freePort()
		if err != nil {
			return fmt.Errorf("finding a free port for %s: %w", name, err)
		}
		c.state.Ports[name] = port
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree is a variable so a test can make a taken port look free, which
// is what a port stolen between the check and the bind looks like.
var portFree = func(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
