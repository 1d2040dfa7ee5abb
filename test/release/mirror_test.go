package release

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/dirhash"
)

// TestMirrorDocuments: the mirror answers the protocol's documents for both
// registry hosts, serves the listed zips over TLS trusted through its CA
// file alone, and nothing else.
func TestMirrorDocuments(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "exe")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	zipName := ProviderName + "_1.2.3_linux_arm64.zip"
	if err := writeZip(filepath.Join(dir, zipName), exe, ProviderName+"_v1.2.3", Epoch); err != nil {
		t.Fatal(err)
	}
	sum, _ := fileSHA256(filepath.Join(dir, zipName))
	if err := os.WriteFile(filepath.Join(dir, ProviderName+"_1.2.3_SHA256SUMS"), formatSums(map[string]string{zipName: sum}), 0o644); err != nil {
		t.Fatal(err)
	}
	m := ServeMirror(t, dir)

	pem, err := os.ReadFile(m.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(p string) (int, string) {
		t.Helper()
		resp, err := client.Get(m.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	h1, err := dirhash.HashZip(filepath.Join(dir, zipName), dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range Hosts {
		base := host + "/nodewright/nodewright/"
		if code, body := get(base + "index.json"); code != 200 || strings.TrimSpace(body) != `{"versions":{"1.2.3":{}}}` {
			t.Errorf("%sindex.json: %d %s", base, code, body)
		}
		code, body := get(base + "1.2.3.json")
		var doc struct {
			Archives map[string]Archive `json:"archives"`
		}
		if err := json.Unmarshal([]byte(body), &doc); code != 200 || err != nil {
			t.Fatalf("%s1.2.3.json: %d %s %v", base, code, body, err)
		}
		want := Archive{File: zipName, Hashes: []string{h1, "zh:" + sum}}
		if a := doc.Archives["linux_arm64"]; len(doc.Archives) != 1 || a.File != want.File || strings.Join(a.Hashes, ",") != strings.Join(want.Hashes, ",") {
			t.Errorf("%s1.2.3.json lists %+v, want linux_arm64: %+v", base, doc.Archives, want)
		}
		if code, body := get(base + zipName); code != 200 || !strings.HasPrefix(body, "PK") {
			t.Errorf("%s%s: %d", base, zipName, code)
		}
	}
	for _, p := range []string{
		"registry.terraform.io/nodewright/nodewright/9.9.9.json",
		"registry.terraform.io/hashicorp/aws/index.json",
		"example.com/nodewright/nodewright/index.json",
		"registry.terraform.io/nodewright/nodewright/" + ProviderName + "_1.2.3_SHA256SUMS",
	} {
		if code, _ := get(p); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	cfg, _ := os.ReadFile(m.CLIConfig)
	if !strings.Contains(string(cfg), `url     = "`+m.URL+`"`) || !strings.Contains(string(cfg), `"registry.opentofu.org/nodewright/*"`) {
		t.Errorf("CLI configuration:\n%s", cfg)
	}
}
