package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

// received turns a client request into what a Go server hands its handler,
// so Host and Content-Length move out of the header map as they do on the
// wire.
func received(t *testing.T, req *http.Request, body []byte) *http.Request {
	t.Helper()
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		got = r.Clone(context.Background())
		got.Host = "ec2.us-east-1.amazonaws.com"
	}))
	defer srv.Close()
	out := req.Clone(context.Background())
	out.URL.Scheme, out.URL.Host = "http", strings.TrimPrefix(srv.URL, "http://")
	out.Host = "ec2.us-east-1.amazonaws.com"
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.RequestURI = ""
	resp, err := http.DefaultClient.Do(out)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return got
}

func payloadHash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Requests the SDK's own signer signed verify with the right secret and
// fail with any other, a changed body, a stale date or no signature at all.
func TestVerifyAgainstTheSDKSigner(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: secret, SessionToken: "tok/en+="}
	now := time.Now().UTC()
	for _, tc := range []struct {
		name, method, url, body string
		presign                 bool
	}{
		{"query POST", http.MethodPost, "http://ec2.us-east-1.amazonaws.com/", "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3Akarpenter.sh%2Fnodepool", false},
		{"REST path with escapes", http.MethodGet, "http://ec2.us-east-1.amazonaws.com/clusters/demo%20a/addons?maxResults=10&b=%2A", "", false},
		{"presigned GET", http.MethodGet, "http://ec2.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			req, _ := http.NewRequest(tc.method, tc.url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			req.Header.Set("X-K8s-Aws-Id", "demo")
			signer := v4.NewSigner()
			if tc.presign {
				u, hdr, err := signer.PresignHTTP(context.Background(), creds, req, payloadHash(nil), "sts", "us-east-1", now)
				if err != nil {
					t.Fatal(err)
				}
				req, _ = http.NewRequest(tc.method, u, nil)
				req.Header = hdr
			} else if err := signer.SignHTTP(context.Background(), creds, req, payloadHash(body), "ec2", "us-east-1", now); err != nil {
				t.Fatal(err)
			}
			r := received(t, req, body)
			s, err := Parse(r, body)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if s.AccessKeyID != "AKIDEXAMPLE" || s.SecurityToken != creds.SessionToken || s.Region != "us-east-1" {
				t.Fatalf("parsed %+v", s)
			}
			if err := s.Verify(secret, now); err != nil {
				t.Fatalf("a correctly signed request fails: %v", err)
			}
			if err := s.Verify(secret+"x", now); !IsProblem(err, Mismatch) {
				t.Errorf("wrong secret: got %v, want a mismatch", err)
			}
			if err := s.Verify(secret, now.Add(2*time.Hour)); !IsProblem(err, Expired) {
				t.Errorf("stale request: got %v, want expired", err)
			}
			if len(body) > 0 {
				tampered, _ := Parse(r, append(body, '1'))
				if err := tampered.Verify(secret, now); !IsProblem(err, Mismatch) {
					t.Errorf("changed body: got %v, want a mismatch", err)
				}
			}
		})
	}
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	if _, err := Parse(r, nil); !IsProblem(err, Missing) {
		t.Errorf("unsigned request: got %v, want missing", err)
	}
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ec2/aws4_request")
	if _, err := Parse(r, nil); !IsProblem(err, Incomplete) {
		t.Errorf("no SignedHeaders: got %v, want incomplete", err)
	}
}
