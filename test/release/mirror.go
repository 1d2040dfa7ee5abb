package release

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/dirhash"
)

// Registry hosts the provider is published under: terraform resolves
// nodewright/nodewright to the first, OpenTofu to the second.
var Hosts = []string{"registry.terraform.io", "registry.opentofu.org"}

// Archive is one provider zip of a release and the hashes terraform checks
// it against: h1: (the dirhash of the zip's contents, which lock files
// record) and zh: (the SHA-256 of the zip file, from SHA256SUMS). From a
// mirror, whose hashes are not signed, terraform 1.11 records only the h1:
// of the package it installed; zh: hashes enter lock files from the
// registry's signed SHA256SUMS.
type Archive struct {
	File   string   `json:"url"`
	Hashes []string `json:"hashes"`
}

// Archives reads the releases in dist (every *_SHA256SUMS of the provider)
// and returns version -> platform ("linux_amd64") -> archive.
func Archives(dist string) (map[string]map[string]Archive, error) {
	sumFiles, err := filepath.Glob(filepath.Join(dist, ProviderName+"_*_SHA256SUMS"))
	if err != nil {
		return nil, err
	}
	if len(sumFiles) == 0 {
		return nil, fmt.Errorf("no %s_*_SHA256SUMS in %s: build a release first", ProviderName, dist)
	}
	out := map[string]map[string]Archive{}
	for _, sf := range sumFiles {
		version := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(sf), ProviderName+"_"), "_SHA256SUMS")
		sums, err := ReadSHA256SUMS(sf)
		if err != nil {
			return nil, err
		}
		out[version] = map[string]Archive{}
		prefix := ProviderName + "_" + version + "_"
		for name, sum := range sums {
			platform, ok := strings.CutSuffix(strings.TrimPrefix(name, prefix), ".zip")
			if !ok || !strings.HasPrefix(name, prefix) {
				continue // the manifest
			}
			h1, err := dirhash.HashZip(filepath.Join(dist, name), dirhash.Hash1)
			if err != nil {
				return nil, fmt.Errorf("hashing %s: %w", name, err)
			}
			out[version][platform] = Archive{File: name, Hashes: []string{h1, "zh:" + sum}}
		}
	}
	return out, nil
}

// Mirror serves a dist directory over Terraform's provider network mirror
// protocol, on loopback, over HTTPS with a certificate of its own throwaway
// CA. The archives' hashes are read once, when the mirror starts: a zip
// changed afterwards is served as it is now, against the hashes of then.
type Mirror struct {
	// URL is the mirror's base URL, https://127.0.0.1:PORT/.
	URL string
	// CAFile is the PEM of the CA that signed the mirror's certificate;
	// terraform trusts it through SSL_CERT_FILE.
	CAFile string
	// CLIConfig is a terraform CLI configuration file that installs
	// nodewright/* from the mirror and everything else directly.
	CLIConfig string
	// Archives are what the mirror serves: version -> platform -> archive.
	Archives map[string]map[string]Archive

	dir string
	srv *httptest.Server

	mu       sync.Mutex // guards requests
	requests []string
}

// NewMirror starts a mirror of dist, writing its CA and CLI configuration
// into a new temporary directory that Close removes.
func NewMirror(dist string) (*Mirror, error) {
	archives, err := Archives(dist)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "nodewright-mirror-")
	if err != nil {
		return nil, err
	}
	m := &Mirror{Archives: archives, dir: dir, CAFile: filepath.Join(dir, "ca.pem"), CLIConfig: filepath.Join(dir, "terraform.rc")}
	cert, err := writeCA(m.CAFile)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	m.srv = httptest.NewUnstartedServer(m.handler(dist))
	m.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	m.srv.StartTLS()
	m.URL = m.srv.URL + "/"
	if err := os.WriteFile(m.CLIConfig, []byte(CLIConfig(m.URL)), 0o644); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// ServeMirror starts a mirror of dist for the test and stops it when the
// test ends.
func ServeMirror(t testing.TB, dist string) *Mirror {
	t.Helper()
	m, err := NewMirror(dist)
	if err != nil {
		t.Fatalf("starting the provider mirror: %v", err)
	}
	t.Cleanup(m.Close)
	return m
}

// Env is the environment that points terraform or tofu at the mirror.
func (m *Mirror) Env() map[string]string {
	return map[string]string{"TF_CLI_CONFIG_FILE": m.CLIConfig, "SSL_CERT_FILE": m.CAFile}
}

// Requests returns the paths requested so far, in order.
func (m *Mirror) Requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.requests...)
}

// Close stops the server, waiting for requests in flight, and removes the
// mirror's files.
func (m *Mirror) Close() {
	m.srv.Close()
	os.RemoveAll(m.dir)
}

// CLIConfig is a terraform CLI configuration installing nodewright's
// provider from the network mirror at url and any other provider directly.
func CLIConfig(url string) string {
	var addrs []string
	for _, h := range Hosts {
		addrs = append(addrs, fmt.Sprintf("%q", h+"/nodewright/*"))
	}
	list := "[" + strings.Join(addrs, ", ") + "]"
	return fmt.Sprintf(`disable_checkpoint = true

provider_installation {
  network_mirror {
    url     = %q
    include = %s
  }
  direct {
    exclude = %s
  }
}
`, url, list, list)
}

// handler answers the protocol's two documents for each host, and the zips
// relative to them:
//
//	GET /HOST/nodewright/nodewright/index.json    {"versions":{"0.1.0":{}}}
//	GET /HOST/nodewright/nodewright/0.1.0.json    {"archives":{"linux_amd64":{"url":"...zip","hashes":[...]}}}
//	GET /HOST/nodewright/nodewright/<zip>         the zip, from dist
func (m *Mirror) handler(dist string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.requests = append(m.requests, r.URL.Path)
		m.mu.Unlock()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		parts := strings.Split(strings.TrimPrefix(path.Clean(r.URL.Path), "/"), "/")
		if len(parts) != 4 || !hostServed(parts[0]) || parts[1] != "nodewright" || parts[2] != "nodewright" {
			http.NotFound(w, r)
			return
		}
		name := parts[3]
		switch {
		case name == "index.json":
			versions := map[string]struct{}{}
			for v := range m.Archives {
				versions[v] = struct{}{}
			}
			writeJSON(w, map[string]any{"versions": versions})
		case strings.HasSuffix(name, ".json"):
			archives, ok := m.Archives[strings.TrimSuffix(name, ".json")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			writeJSON(w, map[string]any{"archives": archives})
		case m.served(name):
			w.Header().Set("Content-Type", "application/zip")
			http.ServeFile(w, r, filepath.Join(dist, name))
		default:
			http.NotFound(w, r)
		}
	})
}

func hostServed(h string) bool {
	for _, s := range Hosts {
		if h == s {
			return true
		}
	}
	return false
}

// served: only the zips listed in the release's checksums are served.
func (m *Mirror) served(name string) bool {
	for _, platforms := range m.Archives {
		for _, a := range platforms {
			if a.File == name {
				return true
			}
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// writeCA creates a throwaway CA, writes its certificate to caFile and
// returns a serving certificate it signed for 127.0.0.1, ::1 and localhost.
func writeCA(caFile string) (tls.Certificate, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nodewright test mirror CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		return tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, DNSNames: []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}, nil
}
