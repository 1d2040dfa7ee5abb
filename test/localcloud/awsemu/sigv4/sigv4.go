// Package sigv4 checks AWS Signature Version 4 on incoming requests, as an
// AWS front end does: it rebuilds the canonical request from what arrived,
// derives the signing key from the secret of the access key the request
// names, and compares signatures. aws-sdk-go-v2 only signs; nothing in it
// verifies, so the server side is written here, from the published
// algorithm ("Create a signed AWS API request" and "Authentication methods"
// in the IAM User Guide), and tested against the SDK's own signer.
// It is pure: it reads the request it is given and calls nothing.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	algorithm = "AWS4-HMAC-SHA256"
	// amzDate is the X-Amz-Date layout.
	amzDate = "20060102T150405Z"
	// MaxSkew is how far a request's date may be from the server's clock;
	// AWS rejects requests older or newer than that.
	MaxSkew = 15 * time.Minute
	// unsignedPayload is the payload hash a presigned URL may carry.
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// Problem classifies why a request does not authenticate, so the server can
// answer with each service's own error code.
type Problem int

const (
	// Missing: no Authorization header and no presigned query.
	Missing Problem = iota + 1
	// Incomplete: the signature's parts are malformed or missing.
	Incomplete
	// Mismatch: the signature is not the one the secret gives.
	Mismatch
	// Expired: the request's date is outside the allowed skew, or a
	// presigned URL is past its expiry.
	Expired
)

// Error is an authentication failure.
type Error struct {
	Problem Problem
	Message string
}

func (e *Error) Error() string { return e.Message }

func fail(p Problem, format string, args ...any) *Error {
	return &Error{Problem: p, Message: fmt.Sprintf(format, args...)}
}

// Signed is a request's signature as it arrived: who claims to have signed
// it, for which scope, and what was signed.
type Signed struct {
	AccessKeyID string
	// Date is the request's signing time.
	Date            time.Time
	DateStamp       string // yyyymmdd of the credential scope
	Region, Service string
	SignedHeaders   []string
	Signature       string
	SecurityToken   string
	Presigned       bool
	expires         time.Duration // presigned only
	req             *http.Request
	body            []byte
}

// Parse reads the signature of r: the Authorization header, or the
// X-Amz-* query parameters of a presigned URL. body is the request body,
// already read.
func Parse(r *http.Request, body []byte) (*Signed, error) {
	q := r.URL.Query()
	s := &Signed{req: r, body: body}
	var dateStr, credential string
	switch auth := r.Header.Get("Authorization"); {
	case auth != "":
		alg, rest, _ := strings.Cut(auth, " ")
		if alg != algorithm {
			return nil, fail(Incomplete, "Unsupported signature algorithm %q: only %s is accepted.", alg, algorithm)
		}
		parts := map[string]string{}
		for _, p := range strings.Split(rest, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok {
				parts[k] = v
			}
		}
		for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
			if parts[k] == "" {
				return nil, fail(Incomplete, "Authorization header requires '%s' parameter. Authorization=%s", k, auth)
			}
		}
		credential, s.Signature = parts["Credential"], parts["Signature"]
		s.SignedHeaders = strings.Split(parts["SignedHeaders"], ";")
		dateStr = r.Header.Get("X-Amz-Date")
		if dateStr == "" {
			dateStr = r.Header.Get("Date")
		}
		s.SecurityToken = r.Header.Get("X-Amz-Security-Token")
	case q.Get("X-Amz-Signature") != "":
		s.Presigned = true
		if alg := q.Get("X-Amz-Algorithm"); alg != algorithm {
			return nil, fail(Incomplete, "Unsupported signature algorithm %q: only %s is accepted.", alg, algorithm)
		}
		credential, s.Signature, dateStr = q.Get("X-Amz-Credential"), q.Get("X-Amz-Signature"), q.Get("X-Amz-Date")
		s.SignedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
		s.SecurityToken = q.Get("X-Amz-Security-Token")
		// Without X-Amz-Expires the URL lives as long as any request may
		// be late.
		secs, err := int(MaxSkew/time.Second), error(nil)
		if e := q.Get("X-Amz-Expires"); e != "" {
			secs, err = strconv.Atoi(e)
		}
		if err != nil || secs < 1 || secs > 7*24*3600 {
			return nil, fail(Incomplete, "X-Amz-Expires must be a number of seconds from 1 to 604800, not %q.", q.Get("X-Amz-Expires"))
		}
		s.expires = time.Duration(secs) * time.Second
	default:
		return nil, fail(Missing, "Request is missing Authentication Token")
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || scope[0] == "" {
		return nil, fail(Incomplete, "Credential should be scoped to a valid region, like 'us-east-1', and service, as in 'AKID/20240101/us-east-1/ec2/aws4_request', not '%s'.", credential)
	}
	s.AccessKeyID, s.DateStamp, s.Region, s.Service = scope[0], scope[1], scope[2], scope[3]
	t, err := time.Parse(amzDate, dateStr)
	if err != nil {
		if t2, err2 := http.ParseTime(dateStr); err2 == nil {
			t = t2.UTC()
		} else {
			return nil, fail(Incomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
		}
	}
	s.Date = t
	if t.Format("20060102") != s.DateStamp {
		return nil, fail(Mismatch, "Credential should be scoped to a valid date, %s, not %s.", t.Format("20060102"), s.DateStamp)
	}
	if !slices.Contains(s.SignedHeaders, "host") {
		return nil, fail(Incomplete, "'Host' must be a signed header.")
	}
	return s, nil
}

// Verify checks the signature against secret at time now.
func (s *Signed) Verify(secret string, now time.Time) error {
	if s.Presigned {
		if now.After(s.Date.Add(s.expires)) {
			return fail(Expired, "Request has expired: signed at %s for %s.", s.Date.Format(amzDate), s.expires)
		}
		if s.Date.After(now.Add(MaxSkew)) {
			return fail(Expired, "Signature not yet current: %s is still later than %s.", s.Date.Format(amzDate), now.Add(MaxSkew).Format(amzDate))
		}
	} else if d := now.Sub(s.Date); d > MaxSkew || d < -MaxSkew {
		return fail(Expired, "Signature expired: %s is now earlier than %s (%s - 15 min.)", s.Date.Format(amzDate), now.Add(-MaxSkew).Format(amzDate), now.Format(amzDate))
	}
	key := signingKey(secret, s.DateStamp, s.Region, s.Service)
	for _, payload := range s.payloadHashes() {
		if hmac.Equal([]byte(hex.EncodeToString(hmacSHA256(key, s.stringToSign(payload)))), []byte(s.Signature)) {
			return nil
		}
	}
	return fail(Mismatch, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
}

// payloadHashes are the payload hashes the signer may have used: the one it
// declared in X-Amz-Content-Sha256, else the body's; a presigned URL may
// leave the payload unsigned.
func (s *Signed) payloadHashes() []string {
	if h := s.req.Header.Get("X-Amz-Content-Sha256"); h != "" {
		if h != unsignedPayload && h != hashHex(s.body) {
			return nil // the body is not the one signed
		}
		return []string{h}
	}
	if s.Presigned {
		return []string{hashHex(s.body), unsignedPayload}
	}
	return []string{hashHex(s.body)}
}

func (s *Signed) stringToSign(payload string) string {
	scope := strings.Join([]string{s.DateStamp, s.Region, s.Service, "aws4_request"}, "/")
	return strings.Join([]string{algorithm, s.Date.Format(amzDate), scope, hashHex([]byte(s.canonicalRequest(payload)))}, "\n")
}

func (s *Signed) canonicalRequest(payload string) string {
	var b strings.Builder
	b.WriteString(s.req.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(s.req.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(s.req.URL.Query(), s.Presigned))
	b.WriteByte('\n')
	for _, h := range s.SignedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(s.headerValue(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(s.SignedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payload)
	return b.String()
}

// headerValue is a signed header's canonical value. Go's server moves Host
// and Content-Length out of the header map, so they are read back from the
// request.
func (s *Signed) headerValue(name string) string {
	switch name {
	case "host":
		return s.req.Host
	case "content-length":
		if s.req.ContentLength >= 0 {
			return strconv.FormatInt(s.req.ContentLength, 10)
		}
	}
	vals := s.req.Header.Values(name)
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

// canonicalURI encodes the path once more, as every service but S3 signs
// it: the client's escaped path, escaped again.
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	return escape(p, false)
}

func canonicalQuery(q url.Values, presigned bool) string {
	var pairs []string
	for k, vs := range q {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, escape(k, true)+"="+escape(v, true))
		}
	}
	slices.Sort(pairs)
	return strings.Join(pairs, "&")
}

// escape percent-encodes all but RFC 3986's unreserved characters (and
// '/', in paths).
func escape(s string, slash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !slash) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// IsProblem reports whether err is an authentication failure of kind p.
func IsProblem(err error, p Problem) bool {
	var e *Error
	return errors.As(err, &e) && e.Problem == p
}
