// Package awsemu is an AWS-compatible endpoint for the local cloud. It
// speaks the wire protocols the real aws-sdk-go-v2 clients use (EC2 query,
// AWS query, JSON 1.0/1.1 and REST-JSON) on one loopback port, and simulates
// the parts of EC2, IAM, SQS, EventBridge, SSM, Pricing, EKS and STS that
// nodewright touches. It is an http.Handler, so tests run it in-process and
// the local cloud runs it as a daemon.
package awsemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/go-jose/go-jose/v4"
	"k8s.io/utils/clock"

	"github.com/nodewright/nodewright/controller/utils/awshttp"
	"github.com/nodewright/nodewright/test/localcloud/iameval"
)

// AccountID is the account every resource belongs to.
const AccountID = "111122223333"

// Options configure a Server.
type Options struct {
	// Region is the default region (us-east-1 when empty).
	Region string
	// StateFile persists the world across restarts; empty keeps it in memory.
	StateFile string
	// Addr to listen on; empty means 127.0.0.1:0.
	Addr string
	// Clock drives instance lifecycles and event timing; a fake clock lets
	// tests step time.
	Clock clock.WithTicker
	// World configures the simulated catalog, zones and network.
	World WorldOptions
	// Logger receives one line per state change; nil discards.
	Logger *slog.Logger
	// NoAuth turns off signature checks and IAM authorization, for
	// debugging: every request then acts as the administrator.
	NoAuth bool
	// ClusterKeys returns the cluster's service-account issuer keys (its
	// JWKS, as the apiserver serves /openid/v1/jwks), against which STS
	// and EKS Pod Identity verify service-account tokens.
	ClusterKeys func(ctx context.Context) ([]byte, error)
}

// Server is a running emulator.
type Server struct {
	// URL is the endpoint to give SDK clients as BaseEndpoint / AWS_ENDPOINT_URL.
	URL string

	opts     Options
	clock    clock.WithTicker
	log      *slog.Logger
	listener net.Listener
	http     *http.Server
	stop     chan struct{}
	loops    sync.WaitGroup
	catalog  *Catalog

	// mu guards world, faults and every service's state: one lock keeps
	// cross-service effects (an EC2 event delivered to SQS) atomic.
	mu     sync.Mutex
	world  *World
	faults *Faults
	dirty  bool
	// changed is signalled (with mu) after every mutation, waking long polls.
	changed *sync.Cond

	ops map[string]map[string]operation // service -> action -> handler
	// calls counts authenticated requests per "service:Action" (under mu),
	// answered or refused, so a test can see how a client uses the API.
	calls map[string]int
	// policies caches parsed policy documents (under mu).
	policies map[string]*iameval.Policy
	// jwks caches ClusterKeys (under mu).
	jwks     *jose.JSONWebKeySet
	jwksAt   time.Time
	rest     []restRoute
	inflight inflight
	// closeGrace and closeReport time Close (see shutdown).
	closeGrace, closeReport time.Duration
}

type operation struct {
	proto   protocol
	handler func(*Call) (any, error)
	// mutates marks operations whose success must be persisted.
	mutates bool
}

// Call is one API request as a handler sees it.
type Call struct {
	Service   string
	Action    string
	Region    string
	RequestID string
	Form      url.Values
	Body      []byte
	Path      map[string]string // REST path parameters
	Query     url.Values
	HTTP      *http.Request
	// Caller is who signed the request; nil for an anonymous call.
	Caller *Caller
	proto  protocol
	server *Server
}

// Decode fills in from the request: form values for query protocols, the
// JSON body otherwise.
func (c *Call) Decode(in any) error {
	switch c.proto {
	case protoEC2Query, protoQuery:
		if err := decodeQuery(c.Form, in); err != nil {
			return err
		}
		return nil
	default:
		if len(c.Body) == 0 {
			return nil
		}
		if err := json.Unmarshal(c.Body, in); err != nil {
			code := "SerializationException"
			if c.proto == protoRESTJSON {
				code = "InvalidParameterException"
			}
			return Errorf(400, code, "could not parse request body: %v", err)
		}
		return nil
	}
}

// New starts an emulator listening on loopback.
func New(opts Options) (*Server, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	catalog, err := LoadCatalog()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts: opts, clock: opts.Clock, log: opts.Logger, catalog: catalog,
		stop: make(chan struct{}), ops: map[string]map[string]operation{},
		faults: newFaults(), policies: map[string]*iameval.Policy{}, calls: map[string]int{},
		closeGrace: closeGrace, closeReport: closeReport,
	}
	s.changed = sync.NewCond(&s.mu)
	s.world, err = s.loadWorld()
	if err != nil {
		return nil, err
	}
	s.registerAll()

	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("awsemu: listening on %s: %w", opts.Addr, err)
	}
	s.listener = l
	s.URL = "http://" + l.Addr().String()
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(l) }()
	s.startLoops()
	return s, nil
}

// NewForTest starts an in-memory emulator that closes when the test ends.
func NewForTest(t interface {
	Helper()
	Fatalf(string, ...any)
	Cleanup(func())
}, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("starting AWS emulator: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Config returns an aws.Config with static credentials pointed at the server.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       s.opts.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AdminAccessKeyID, AdminSecretAccessKey, ""),
		BaseEndpoint: aws.String(s.URL),
		// The emulator's own fault injection decides when to throttle; SDK
		// retries stay on, as in production.
		RetryMaxAttempts: 3,
		HTTPClient:       awshttp.BufferResponses(&http.Client{}),
	}
}

// Close stops accepting requests, waits for in-flight ones (naming those it
// still waits on after a few seconds, and every few seconds after), stops
// the background loops and saves state.
func (s *Server) Close() error {
	close(s.stop)
	// Wake long polls so that they answer before the shutdown deadline.
	s.mu.Lock()
	s.changed.Broadcast()
	s.mu.Unlock()
	err := s.shutdown(s.closeGrace, s.closeReport)
	s.loops.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(err, s.saveLocked())
}

// Do runs f with the world locked: for in-process inspection and fault
// injection. f must not call back into the server over HTTP.
func (s *Server) Do(f func(w *World)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.world)
	s.dirty = true
}

func (s *Server) register(service, action string, proto protocol, mutates bool, h func(*Call) (any, error)) {
	if s.ops[service] == nil {
		s.ops[service] = map[string]operation{}
	}
	s.ops[service][action] = operation{proto: proto, handler: h, mutates: mutates}
}

var (
	credentialScope = regexp.MustCompile(`Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request`)
	hostService     = regexp.MustCompile(`^([a-z0-9-]+)\.(?:([a-z0-9-]+)\.)?amazonaws\.com`)
	// X-Amz-Target prefixes of the JSON services.
	targetPrefixes = map[string]string{
		"AmazonSQS":           "sqs",
		"AWSEvents":           "events",
		"AmazonSSM":           "ssm",
		"AWSPriceListService": "pricing",
	}
)

// ServeHTTP dispatches the way AWS front ends do: X-Amz-Target for JSON
// protocols, the query Action for query protocols, and the REST path
// otherwise; the service comes from the SigV4 credential scope or the Host.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := s.inflight.begin(r.Method, r.URL.String())
	defer s.inflight.end(id)
	reqID := newRequestID()
	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		s.serveAdmin(w, r)
		return
	}
	if r.URL.Path == PodIdentityPath && r.Method == http.MethodGet {
		s.servePodIdentity(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		writeError(w, protoQuery, "", reqID, Errorf(400, "MalformedRequest", "reading body: %v", err))
		return
	}
	service, region := s.scope(r)
	c := &Call{Service: service, Region: region, RequestID: reqID, Body: body, HTTP: r, Query: r.URL.Query(), server: s}

	var op operation
	var found bool
	// proto is the wire format of this request: the operation's own, except
	// that an operation of a query-compatible service (SQS) reached by its
	// query Action speaks the query protocol.
	var proto protocol
	switch target := r.Header.Get("X-Amz-Target"); {
	case target != "":
		prefix, action, _ := strings.Cut(target, ".")
		c.Service, c.Action = targetPrefixes[prefix], action
		if c.Service == "" {
			writeError(w, protoJSON11, "", reqID, Errorf(400, "UnknownOperationException", "unknown target %q", target))
			return
		}
		op, found = s.ops[c.Service][action]
		if !found {
			proto = protoJSON11
			if c.Service == "sqs" {
				proto = protoJSON10
			}
			writeError(w, proto, c.Service, reqID, Errorf(400, "UnknownOperationException", "%s does not support the operation %s", c.Service, action))
			return
		}
		proto = op.proto
	case c.Service == "eks":
		op, found = s.matchREST(r.Method, r.URL.EscapedPath(), c)
		if !found {
			writeError(w, protoRESTJSON, c.Service, reqID, Errorf(404, "NotFoundException", "no EKS route for %s %s", r.Method, r.URL.Path))
			return
		}
		proto = op.proto
	default:
		form := r.URL.Query()
		if r.Method == http.MethodPost {
			if parsed, err := url.ParseQuery(string(body)); err == nil {
				for k, v := range parsed {
					form[k] = v
				}
			}
		}
		c.Form = form
		c.Action = form.Get("Action")
		if c.Service == "" {
			c.Service = serviceForAction(c.Action)
		}
		proto = protoQuery
		if c.Service == "ec2" {
			proto = protoEC2Query
		}
		if c.Action == "" {
			writeError(w, proto, c.Service, reqID, Errorf(400, "MissingAction", "The request must contain the parameter Action"))
			return
		}
		op, found = s.ops[c.Service][c.Action]
		if !found {
			writeError(w, proto, c.Service, reqID, errInvalidAction(c.Action, c.Service))
			return
		}
		if !queryCompatible[c.Service] {
			proto = op.proto
		}
	}
	c.proto = proto
	s.inflight.routed(id, c.Service, c.Action)

	out, apiErr := s.invoke(c, op)
	if apiErr != nil {
		writeError(w, proto, c.Service, reqID, apiErr)
		return
	}
	writeResult(w, proto, c.Service, c.Action, reqID, out)
}

// invoke runs a handler under the world lock, applying injected faults
// first and turning panics into InternalFailure, so no request crashes the server.
func (s *Server) invoke(c *Call, op operation) (out any, apiErr *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("handler panic", "service", c.Service, "action", c.Action, "panic", p)
			out, apiErr = nil, &Error{Code: "InternalFailure", Message: fmt.Sprintf("internal error in %s: %v", c.Action, p), Status: 500, Server: true}
		}
	}()
	caller, authErr := s.authenticate(c, c.proto)
	if authErr != nil {
		s.log.Info("request refused: not authenticated", "service", c.Service, "action", c.Action, "code", authErr.Code)
		return nil, authErr
	}
	c.Caller = caller
	s.calls[c.Service+":"+c.Action]++
	if e := s.authorize(c); e != nil {
		return nil, e
	}
	if e := s.faults.apiFault(c.Service, c.Action); e != nil {
		return nil, e
	}
	out, err := op.handler(c)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, &Error{Code: "InternalFailure", Message: err.Error(), Status: 500, Server: true}
	}
	if op.mutates {
		s.dirty = true
		s.changed.Broadcast()
	}
	return out, nil
}

type restRoute struct {
	action  string // the IAM action name, e.g. DescribeCluster
	method  string
	pattern *regexp.Regexp
	names   []string
	op      operation
}

// registerREST adds a REST route for an action; path segments written
// {name} become Call.Path["name"].
func (s *Server) registerREST(service, action, method, path string, mutates bool, h func(*Call) (any, error)) {
	names := []string{}
	re := regexp.MustCompile(`\{([a-zA-Z]+)\}`).ReplaceAllStringFunc(path, func(m string) string {
		names = append(names, m[1:len(m)-1])
		return `([^/]+)`
	})
	s.rest = append(s.rest, restRoute{action: action, method: method, pattern: regexp.MustCompile("^" + re + "$"), names: names,
		op: operation{proto: protoRESTJSON, handler: h, mutates: mutates}})
}

func (s *Server) matchREST(method, path string, c *Call) (operation, bool) {
	for _, rt := range s.rest {
		if rt.method != method {
			continue
		}
		m := rt.pattern.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		c.Path = map[string]string{}
		for i, n := range rt.names {
			v, _ := url.PathUnescape(m[i+1])
			c.Path[n] = v
		}
		c.Action = rt.action
		return rt.op, true
	}
	return operation{}, false
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newID returns an AWS-style resource id such as i-0a1b2c3d4e5f60718.
func newID(prefix string) string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])[:17]
}
