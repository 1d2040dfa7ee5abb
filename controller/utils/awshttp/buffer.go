// Package awshttp holds the HTTP client every AWS SDK client in the
// project uses: the controller's, the Terraform provider's and the local
// cloud's test clients. It does I/O only through the client it wraps.
package awshttp

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// BufferResponses wraps the SDK's HTTP client (after config loading, so
// that AWS_CA_BUNDLE and transport options still apply) to read each
// response whole before the SDK decodes it: smithy-go closes the
// request body once Do returns, and net/http's write loop can then close
// the connection under a response still being read (aws-sdk-go-v2#2737);
// on loopback endpoints this breaks about one large response in five.
// AWS responses here are small enough to buffer.
func BufferResponses(c aws.HTTPClient) aws.HTTPClient {
	if c == nil {
		c = &http.Client{Timeout: 2 * time.Minute}
	}
	return bufferingClient{c}
}

type bufferingClient struct{ c aws.HTTPClient }

func (b bufferingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := b.c.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading %s response: %w", req.URL.Host, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
