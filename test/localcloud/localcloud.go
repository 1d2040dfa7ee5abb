// Package localcloud runs a real Kubernetes control plane on loopback:
// etcd, kube-apiserver, kube-controller-manager and kube-scheduler built from
// source, plus kwok to play kubelet for fake nodes. The CLI (cmd/localcloud)
// and Go tests share this package, so both start the same cluster.
package localcloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Component names, in start order.
const (
	Etcd              = "etcd"
	APIServer         = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	Scheduler         = "kube-scheduler"
	Kwok              = "kwok"
	// AWS is the daemon serving the AWS endpoint, the node agent and the
	// system node's process runtime: `localcloud serve`, from bin/localcloud.
	AWS = "aws"
	// Registry is the OCI registry pods on the system node pull from:
	// `localcloud registry`, from bin/localcloud.
	Registry = "registry"
)

var componentOrder = []string{Etcd, APIServer, ControllerManager, Scheduler, Kwok, Registry, AWS}

// binaries maps components to the executables in BinDir.
var binaries = map[string]string{AWS: "localcloud", Registry: "localcloud"}

func binary(component string) string {
	if b, ok := binaries[component]; ok {
		return b
	}
	return component
}

// Options configure a local cloud.
type Options struct {
	// Dir is the state directory: kubeconfig, env, pki, etcd data and logs.
	Dir string
	// BinDir holds the binaries `make tools` builds. Empty means the repo's bin/.
	BinDir string
	// Detach lets components outlive the calling process (the CLI's `up`).
	// Attached components are killed when the caller dies, as tests want.
	Detach bool
	// Progress receives one line per component as it becomes ready.
	Progress io.Writer
	// ReadyTimeout bounds the whole start-up. Zero means two minutes.
	ReadyTimeout time.Duration
	// Region of the AWS endpoint, default us-east-1.
	Region string
	// ClusterName is the EKS cluster the AWS endpoint reports, default "localcloud".
	ClusterName string
	// Profile is "default" (instances join ~3 s after launch) or "realistic" (~30 s).
	Profile string
	// ImageLayout is the controller image's OCI layout, pushed to the
	// registry as nodewright/nodewright:<version> at every start. Empty
	// means BinDir/image, skipped when `make image` has not built it.
	ImageLayout string
	// NoAuth turns off the AWS endpoint's signature checks and IAM
	// authorization (for debugging a policy problem, never in tests).
	NoAuth bool
}

// Cloud is a running local cloud.
type Cloud struct {
	opts  Options
	state *state
	// Kubeconfig is the admin kubeconfig's path.
	Kubeconfig string
	// RESTConfig authenticates as cluster admin.
	RESTConfig *rest.Config
	// controllerImage is the pushed controller image by digest, if any.
	controllerImage string
}

// Up starts every component and waits until the cluster is ready. On any
// failure it stops what it started and returns an error with the failing
// component's log tail.
func Up(ctx context.Context, opts Options) (*Cloud, error) {
	if opts.Dir == "" {
		return nil, errors.New("localcloud: Options.Dir is required")
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 2 * time.Minute
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	if opts.BinDir == "" {
		if opts.BinDir, err = DefaultBinDir(); err != nil {
			return nil, err
		}
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.ClusterName == "" {
		opts.ClusterName = "localcloud"
	}
	if opts.Profile == "" {
		opts.Profile = "default"
	}
	if opts.Profile != "default" && opts.Profile != "realistic" {
		return nil, fmt.Errorf("localcloud: profile %q is not one of default, realistic", opts.Profile)
	}
	for _, name := range componentOrder {
		if _, err := os.Stat(filepath.Join(opts.BinDir, binary(name))); err != nil {
			return nil, fmt.Errorf("localcloud: %s not found in %s: run `make tools build` to build it", binary(name), opts.BinDir)
		}
	}
	if opts.ImageLayout == "" {
		opts.ImageLayout = filepath.Join(opts.BinDir, "image")
	}
	for _, sub := range []string{"logs", "etcd", "certs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("creating state directory: %w", err)
		}
	}
	st, err := loadState(dir)
	if err != nil {
		return nil, err
	}
	for _, p := range st.Processes {
		if p.Alive() {
			return nil, fmt.Errorf("localcloud: already running in %s (%s, pid %d): run `localcloud down` first", dir, p.Name, p.PID)
		}
	}
	st.Processes = map[string]*Process{}
	c := &Cloud{opts: opts, state: st, Kubeconfig: filepath.Join(dir, "kubeconfig")}

	ctx, cancel := context.WithTimeout(ctx, opts.ReadyTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := c.start(ctx)
		if err == nil {
			return c, nil
		}
		_ = c.Down()
		// A port found free can be taken before its component binds it, by
		// another cloud starting beside this one or by any outgoing
		// connection's ephemeral port. That is no reason to fail: pick
		// another port and start again.
		var taken *portTakenError
		if attempt == 3 || !errors.As(err, &taken) {
			return nil, err
		}
		fmt.Fprintf(opts.Progress, "  %s: its port was taken before it could bind; starting again on fresh ports\n", taken.component)
		c.releasePorts(taken.component)
	}
}

func (c *Cloud) start(ctx context.Context) error {
	began := time.Now()
	if err := c.allocatePorts(); err != nil {
		return err
	}
	keys := pki{dir: filepath.Join(c.opts.Dir, "pki")}
	if err := keys.ensure(); err != nil {
		return err
	}
	if err := c.writeKubeconfigs(keys); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return fmt.Errorf("loading admin kubeconfig: %w", err)
	}
	c.RESTConfig = cfg
	stagesPath, err := writeKwokStages(c.opts.Dir)
	if err != nil {
		return err
	}
	specs := c.componentSpecs(keys, stagesPath)

	// etcd and the apiserver come up in order; the rest only need the apiserver.
	for _, name := range []string{Etcd, APIServer} {
		if err := c.launch(specs[name]); err != nil {
			return err
		}
		if err := c.awaitHealthy(ctx, specs[name]); err != nil {
			return err
		}
	}
	rest := []string{ControllerManager, Scheduler, Kwok, Registry, AWS}
	for _, name := range rest {
		if err := c.launch(specs[name]); err != nil {
			return err
		}
	}
	for _, name := range rest {
		if err := c.awaitHealthy(ctx, specs[name]); err != nil {
			return err
		}
	}
	if err := c.pushControllerImage(ctx); err != nil {
		return err
	}
	if err := c.writeEnv(); err != nil {
		return err
	}
	fmt.Fprintf(c.opts.Progress, "local cloud ready in %s; kubeconfig: %s\n", time.Since(began).Round(100*time.Millisecond), c.Kubeconfig)
	return nil
}

// RestartAWS stops the AWS endpoint daemon (it saves its world on the way
// out) and starts it again on the same port, as an outage of the AWS API
// looks to its clients: refused connections, then the same state. Injected
// faults do not survive it.
func (c *Cloud) RestartAWS(ctx context.Context) error {
	if p := c.state.Processes[AWS]; p != nil {
		if err := p.Stop(10 * time.Second); err != nil {
			return err
		}
	}
	s := c.awsSpec()
	if err := c.launch(s); err != nil {
		return err
	}
	return c.awaitHealthy(ctx, s)
}

func (c *Cloud) launch(s componentSpec) error {
	p, err := startProcess(s.name, filepath.Join(c.opts.BinDir, binary(s.name)), s.args,
		filepath.Join(c.opts.Dir, "logs", s.name+".log"), nil, c.opts.Detach)
	if err != nil {
		return err
	}
	c.state.Processes[s.name] = p
	return c.state.save(c.opts.Dir)
}

func (c *Cloud) awaitHealthy(ctx context.Context, s componentSpec) error {
	began := time.Now()
	p := c.state.Processes[s.name]
	var lastErr error
	for {
		if !p.Alive() {
			tail := p.LogTail(20)
			err := fmt.Errorf("%s exited during start-up; last log lines from %s:\n%s", s.name, p.Log, tail)
			if strings.Contains(tail, "address already in use") {
				return &portTakenError{component: s.name, err: err}
			}
			return err
		}
		if lastErr = s.healthy(ctx); lastErr == nil {
			fmt.Fprintf(c.opts.Progress, "  %-24s ready in %-6s pid %-7d log %s\n", s.name,
				time.Since(began).Round(100*time.Millisecond), p.PID, p.Log)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy before the start-up timeout (%v); last log lines from %s:\n%s",
				s.name, lastErr, p.Log, p.LogTail(20))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// APIServerURL is the apiserver's https URL on loopback.
func (c *Cloud) APIServerURL() string {
	return fmt.Sprintf("https://127.0.0.1:%d", c.state.Ports[APIServer])
}

// AWSEndpoint is the URL to give SDK clients as AWS_ENDPOINT_URL.
func (c *Cloud) AWSEndpoint() string {
	return fmt.Sprintf("http://127.0.0.1:%d", c.state.Ports[AWS])
}

// Region is the AWS endpoint's default region.
func (c *Cloud) Region() string { return c.opts.Region }

// ClusterName is the EKS cluster name the AWS endpoint reports.
func (c *Cloud) ClusterName() string { return c.opts.ClusterName }

// Dir is the state directory.
func (c *Cloud) Dir() string { return c.opts.Dir }

// Process returns a component's process, for tests that inject crashes.
func (c *Cloud) Process(name string) *Process { return c.state.Processes[name] }

// Down stops every component this cloud started, in reverse start order.
func (c *Cloud) Down() error {
	return errors.Join(stopAll(c.state), c.state.save(c.opts.Dir))
}

// Down stops the components recorded in a state directory, alive or not:
// a crashed component is skipped, the rest are stopped by pid.
func Down(dir string) error {
	st, err := loadState(dir)
	if err != nil {
		return err
	}
	if err := stopAll(st); err != nil {
		return err
	}
	return st.save(dir)
}

func stopAll(st *state) error {
	var errs []error
	for i := len(componentOrder) - 1; i >= 0; i-- {
		if p, ok := st.Processes[componentOrder[i]]; ok {
			if err := p.Stop(10 * time.Second); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// ComponentStatus is one line of `localcloud status`.
type ComponentStatus struct {
	Name    string
	PID     int
	Running bool
	// Crashed: not running, and not stopped by down.
	Crashed bool
	Log     string
	// LogTail is set for crashed components.
	LogTail string
	// Mode says how a component runs where that matters to a user: for
	// the AWS endpoint, whether IAM is enforced.
	Mode string
}

// Status reports each recorded component; a crashed one carries its log tail.
func Status(dir string) ([]ComponentStatus, error) {
	st, err := loadState(dir)
	if err != nil {
		return nil, err
	}
	var out []ComponentStatus
	for _, name := range componentOrder {
		p, ok := st.Processes[name]
		if !ok {
			continue
		}
		cs := ComponentStatus{Name: name, PID: p.PID, Running: p.Alive(), Log: p.Log}
		cs.Crashed = !cs.Running && !p.Stopped
		if name == AWS {
			cs.Mode = "IAM enforced"
			if slices.Contains(p.Args, "--no-auth") {
				cs.Mode = "IAM off (--no-auth)"
			}
		}
		if cs.Crashed {
			cs.LogTail = p.LogTail(15)
		}
		out = append(out, cs)
	}
	return out, nil
}

// DefaultBinDir finds the repository's bin/ from the working directory, or
// NODEWRIGHT_BIN_DIR when set.
func DefaultBinDir() (string, error) {
	if d := os.Getenv("NODEWRIGHT_BIN_DIR"); d != "" {
		return d, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin"), nil
}

// RepoRoot walks up from the working directory to the root go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module github.com/nodewright/nodewright\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("localcloud: not inside the nodewright repository; set NODEWRIGHT_BIN_DIR")
		}
		dir = parent
	}
}
