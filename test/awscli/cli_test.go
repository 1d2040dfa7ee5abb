package awscli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodewright/nodewright/test/localcloud/awsemu"
)

// awsCLI is the aws command under test.
type awsCLI struct {
	path    string
	version string // e.g. "1.45.11"
	major   int    // 1 or 2
}

// findCLI looks the aws command up once for all tests.
var findCLI = sync.OnceValues(func() (*awsCLI, error) {
	path, err := exec.LookPath("aws")
	if err != nil {
		return nil, fmt.Errorf("no aws on PATH (make test-awscli installs Debian's awscli): %w", err)
	}
	// A pyenv shim is a shell script that runs pyenv to find the real
	// command; calling that directly saves about 0.3 s a call.
	if strings.Contains(filepath.ToSlash(path), "/shims/") {
		if out, err := exec.Command("pyenv", "which", "aws").Output(); err == nil {
			if real := strings.TrimSpace(string(out)); real != "" {
				path = real
			}
		}
	}
	// Some releases print the version on stderr.
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w\n%s", path, err, out)
	}
	m := regexp.MustCompile(`aws-cli/((\d+)\.\d+\.\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		return nil, fmt.Errorf("%s --version printed %q, not aws-cli/<version>", path, out)
	}
	major, _ := strconv.Atoi(m[2])
	return &awsCLI{path: path, version: m[1], major: major}, nil
})

// cliFor returns the CLI, skipping the test unless NODEWRIGHT_AWSCLI=1.
func cliFor(t *testing.T) *awsCLI {
	t.Helper()
	if os.Getenv("NODEWRIGHT_AWSCLI") != "1" {
		t.Skip("the AWS CLI cases run with NODEWRIGHT_AWSCLI=1 (make test-awscli)")
	}
	c, err := findCLI()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serviceErrorExit is the exit status of a call the service refused:
// aws-cli 1.x exits 255 on any error, 2.x 254 on a service error.
func (c *awsCLI) serviceErrorExit() int {
	if c.major >= 2 {
		return 254
	}
	return 255
}

// atLeast reports whether the CLI's version is v or later.
func (c *awsCLI) atLeast(v string) bool {
	have, want := strings.Split(c.version, "."), strings.Split(v, ".")
	for i := range want {
		h, _ := strconv.Atoi(have[i])
		w, _ := strconv.Atoi(want[i])
		if h != w {
			return h > w
		}
	}
	return true
}

// SQS protocols a CLI may speak: botocore released since April 2024
// (boto/botocore#3165) speaks JSON 1.0, older releases (Debian 12's aws-cli
// 2.9) the AWS query protocol. AWS, and the emulator, serve both.
const (
	sqsJSON  = "json"
	sqsQuery = "query"
)

var (
	sqsProtocolOnce sync.Once
	sqsProtocolName string
	sqsProtocolErr  error
)

// sqsProtocol is the protocol the CLI speaks to SQS, read off the request
// one call sends to a stub server, once for all tests.
func (c *awsCLI) sqsProtocol(t *testing.T) string {
	t.Helper()
	sqsProtocolOnce.Do(func() {
		var mu sync.Mutex
		var contentType, target string
		stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			contentType, target = r.Header.Get("Content-Type"), r.Header.Get("X-Amz-Target")
			mu.Unlock()
			w.WriteHeader(http.StatusBadRequest)
		}))
		defer stub.Close()
		out := c.run(t, stub.URL, admin, "sqs", "list-queues")
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasPrefix(target, "AmazonSQS."):
			sqsProtocolName = sqsJSON
		case strings.HasPrefix(contentType, "application/x-www-form-urlencoded"):
			sqsProtocolName = sqsQuery
		default:
			sqsProtocolErr = fmt.Errorf("%s sent neither a JSON nor a query request (Content-Type %q, X-Amz-Target %q):\n%s", out.cmd, contentType, target, out.stderr)
		}
	})
	if sqsProtocolErr != nil {
		t.Fatal(sqsProtocolErr)
	}
	return sqsProtocolName
}

// creds are the credentials a call signs with.
type creds struct{ id, secret, token string }

var admin = creds{id: awsemu.AdminAccessKeyID, secret: awsemu.AdminSecretAccessKey}

// output is what one CLI run printed.
type output struct {
	cmd    string // the command line, for messages
	stdout string
	stderr string
	code   int
}

// run calls the CLI against endpoint, with JSON output. The endpoint is
// given both as AWS_ENDPOINT_URL and as --endpoint-url: aws-cli 1.x
// ignores the variable for SQS (it pins queue.amazonaws.com), and releases
// before aws-cli 1.29 / 2.13 (Debian 12 ships 2.9) ignore it altogether,
// which would send the call to AWS. TestEndpointFromEnvironment checks the
// variable alone.
func (c *awsCLI) run(t *testing.T, endpoint string, cr creds, args ...string) output {
	t.Helper()
	return c.exec(t, cliEnv(t, endpoint, cr), append([]string{"--output", "json", "--endpoint-url", endpoint}, args...)...)
}

// cliEnv is an environment with no AWS configuration but ours: no config
// or credentials files, no instance metadata, no pager, no retries.
func cliEnv(t *testing.T, endpoint string, cr creds) []string {
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"HOME="+home,
		"AWS_CONFIG_FILE="+filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "no-credentials"),
		"AWS_ACCESS_KEY_ID="+cr.id,
		"AWS_SECRET_ACCESS_KEY="+cr.secret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ENDPOINT_URL="+endpoint,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
	)
	if cr.token != "" {
		env = append(env, "AWS_SESSION_TOKEN="+cr.token)
	}
	return env
}

func (c *awsCLI) exec(t *testing.T, env []string, args ...string) output {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := output{cmd: "aws " + strings.Join(args, " "), stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		out.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", out.cmd, err)
	}
	return out
}

// doc parses stdout: nil when the CLI printed nothing (an operation with no
// output), else the JSON document.
func (o output) doc() (any, error) {
	if strings.TrimSpace(o.stdout) == "" {
		return nil, nil
	}
	var doc any
	if err := json.Unmarshal([]byte(o.stdout), &doc); err != nil {
		return nil, fmt.Errorf("%s printed no JSON: %v\n%s", o.cmd, err, o.stdout)
	}
	return doc, nil
}

// skipUnknownCommand skips the test when the CLI predates the operation
// (Debian 12's aws-cli 2.9 has no EKS access entries or pod identity
// associations): its model, not the emulator, lacks the command.
func (o output) skipUnknownCommand(t *testing.T, c *awsCLI) {
	t.Helper()
	if strings.Contains(o.stderr, "argument operation: Invalid choice") {
		t.Skipf("aws-cli %s has no such command: %s", c.version, o.cmd)
	}
}

// errorLine is how both CLI majors report a service error on stderr.
var errorLine = regexp.MustCompile(`An error occurred \(([^)]+)\) when calling the (\w+) operation`)

// wantError checks that the call failed as the service refusing op with
// code: the exit status, and the code and operation named on stderr.
func (o output) wantError(t *testing.T, c *awsCLI, op, code string) {
	t.Helper()
	m := errorLine.FindStringSubmatch(o.stderr)
	switch {
	case m == nil:
		t.Errorf("%s: exit %d, stderr names no service error, want %s:\n%s%s", o.cmd, o.code, code, o.stderr, o.stdout)
	case m[1] != code || m[2] != op:
		t.Errorf("%s: got %s from %s, want %s from %s:\n%s", o.cmd, m[1], m[2], code, op, o.stderr)
	}
	if o.code != c.serviceErrorExit() {
		t.Errorf("%s: exit %d, want %d (aws-cli %s on a service error)", o.cmd, o.code, c.serviceErrorExit(), c.version)
	}
	if strings.TrimSpace(o.stdout) != "" {
		t.Errorf("%s: printed output on failure:\n%s", o.cmd, o.stdout)
	}
}

// TestEndpointFromEnvironment checks that the CLI finds the emulator from
// AWS_ENDPOINT_URL alone, as the local cloud's users configure it, for a
// service of each protocol that aws-cli does not pin (SQS it pins).
func TestEndpointFromEnvironment(t *testing.T) {
	cli := cliFor(t)
	if !cli.atLeast(map[int]string{1: "1.29.0", 2: "2.13.0"}[cli.major]) {
		t.Skipf("aws-cli %s predates AWS_ENDPOINT_URL (1.29 / 2.13)", cli.version)
	}
	srv := awsemu.NewForTest(t, awsemu.Options{})
	for _, tc := range []struct {
		args []string
		path string
		want string
	}{
		{[]string{"sts", "get-caller-identity"}, "Account", awsemu.AccountID},
		{[]string{"ec2", "describe-availability-zones", "--zone-names", "us-east-1b"}, "AvailabilityZones.0.ZoneName", "us-east-1b"},
		{[]string{"ssm", "get-parameter", "--name", "/aws/service/eks/optimized-ami/1.37/amazon-linux-2023/x86_64/standard/recommended/image_id"}, "Parameter.DataType", "aws:ec2:image"},
		{[]string{"eks", "list-clusters"}, "clusters.0", "localcloud"},
	} {
		t.Run(strings.Join(tc.args[:2], "/"), func(t *testing.T) {
			t.Parallel()
			out := cli.exec(t, cliEnv(t, srv.URL, admin), append([]string{"--output", "json"}, tc.args...)...)
			if out.code != 0 {
				t.Fatalf("%s: exit %d\n%s", out.cmd, out.code, out.stderr)
			}
			doc, err := out.doc()
			if err != nil {
				t.Fatal(err)
			}
			if err := eq(tc.path, tc.want).fn(doc, noVars); err != nil {
				t.Errorf("%s: %v", out.cmd, err)
			}
		})
	}
}
