package awsemu

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Raw AWS query protocol requests, as clients the emulator's own SDK is
// not (botocore, older SDKs) send them, and the XML they get back.

// queryCall POSTs a form-encoded Action request for service, signed with
// cfg's credentials, and returns the status and the parsed response.
func queryCall(t *testing.T, s *Server, cfg aws.Config, service string, params ...string) (int, *xmlNode) {
	t.Helper()
	form := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		form.Add(params[i], params[i+1])
	}
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var doc xmlNode
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s %s: the response is not XML: %v\n%s", service, form.Get("Action"), err, raw)
	}
	return resp.StatusCode, &doc
}

// xmlNode is any XML element.
type xmlNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []*xmlNode `xml:",any"`
}

// all returns the elements at a slash-separated path below n.
func (n *xmlNode) all(path string) []*xmlNode {
	nodes := []*xmlNode{n}
	for _, name := range strings.Split(path, "/") {
		var next []*xmlNode
		for _, p := range nodes {
			for _, c := range p.Children {
				if c.XMLName.Local == name {
					next = append(next, c)
				}
			}
		}
		nodes = next
	}
	return nodes
}

// text is the text of the only element at path, "" when there is none.
func (n *xmlNode) text(t *testing.T, path string) string {
	t.Helper()
	nodes := n.all(path)
	switch len(nodes) {
	case 0:
		return ""
	case 1:
		return nodes[0].Text
	}
	t.Fatalf("%d <%s> elements in <%s>, want at most one", len(nodes), path, n.XMLName.Local)
	return ""
}

// entries reads flattened map entries (<Attribute><Name/><Value/></Attribute>).
func (n *xmlNode) entries(path, key string) map[string]string {
	out := map[string]string{}
	for _, e := range n.all(path) {
		var k, v string
		for _, c := range e.Children {
			switch c.XMLName.Local {
			case key:
				k = c.Text
			case "Value":
				v = c.Text
			}
		}
		out[k] = v
	}
	return out
}

// UpdateRole's output shape is empty; AWS still writes <UpdateRoleResult/>,
// which botocore requires. DeleteRole has no output shape, and no result.
func TestQueryEmptyResults(t *testing.T) {
	s := NewForTest(t, Options{})
	c := iamClient(t, s)
	createRole(t, c, "empty")
	ctx := context.Background()

	status, doc := queryCall(t, s, s.Config(), "iam", "Action", "UpdateRole", "Version", "2010-05-08", "RoleName", "empty", "Description", "raw")
	if status != 200 || doc.XMLName.Local != "UpdateRoleResponse" || len(doc.all("UpdateRoleResult")) != 1 || doc.text(t, "ResponseMetadata/RequestId") == "" {
		t.Fatalf("UpdateRole: status %d, %+v", status, doc)
	}
	if _, err := c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("empty"), Description: aws.String("sdk")}); err != nil {
		t.Fatalf("UpdateRole with aws-sdk-go-v2: %v", err)
	}
	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("empty")})
	if err != nil || aws.ToString(got.Role.Description) != "sdk" {
		t.Fatalf("GetRole after UpdateRole: %v %+v", err, got)
	}
	status, doc = queryCall(t, s, s.Config(), "iam", "Action", "DeleteRole", "Version", "2010-05-08", "RoleName", "empty")
	if status != 200 || doc.XMLName.Local != "DeleteRoleResponse" || len(doc.Children) != 1 || doc.text(t, "ResponseMetadata/RequestId") == "" {
		t.Fatalf("DeleteRole: status %d, want only ResponseMetadata: %+v", status, doc)
	}
}

// botocoreModel finds botocore's model of service (service-2.json, maybe
// gzipped) in an installed aws-cli or botocore, returning nil when none is
// installed or the model found is not of protocol.
func botocoreModel(t *testing.T, service, protocol string) *botocoreService {
	t.Helper()
	home, _ := os.UserHomeDir()
	var found []string
	for _, root := range []string{
		"/usr/lib/python3/dist-packages/awscli/botocore/data", // Debian's awscli (2.x)
		"/usr/lib/python3/dist-packages/botocore/data",
		"/usr/local/aws-cli/v2/current/dist/awscli/botocore/data", // AWS's installer
		home + "/.pyenv/versions/*/lib/python3*/site-packages/botocore/data",
		"/usr/local/lib/python3*/dist-packages/botocore/data",
		"/usr/lib/python3*/site-packages/botocore/data",
	} {
		for _, ext := range []string{"", ".gz"} {
			m, _ := filepath.Glob(root + "/" + service + "/*/service-2.json" + ext)
			found = append(found, m...)
		}
	}
	for _, path := range found {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		var r io.Reader = f
		if strings.HasSuffix(path, ".gz") {
			if r, err = gzip.NewReader(f); err != nil {
				f.Close()
				continue
			}
		}
		var m botocoreService
		err = json.NewDecoder(r).Decode(&m)
		f.Close()
		if err == nil && m.Metadata.Protocol == protocol {
			t.Logf("%s model: %s", service, path)
			return &m
		}
	}
	return nil
}

type botocoreService struct {
	Metadata struct {
		Protocol string `json:"protocol"`
	} `json:"metadata"`
	Operations map[string]struct {
		Output *struct {
			Shape string `json:"shape"`
		} `json:"output"`
	} `json:"operations"`
	Shapes map[string]struct {
		Members map[string]json.RawMessage `json:"members"`
		Error   *struct {
			Code   string `json:"code"`
			Status int    `json:"httpStatusCode"`
		} `json:"error"`
	} `json:"shapes"`
}

// TestEmptyResultsMatchBotocore checks emptyResults against the models of
// every query service the emulator serves: an operation belongs in it when
// its output shape has no members. It skips when no botocore is installed
// (make test-awscli installs one).
func TestEmptyResultsMatchBotocore(t *testing.T) {
	s := NewForTest(t, Options{})
	checked := 0
	for _, service := range []string{"iam", "sts", "sqs"} {
		m := botocoreModel(t, service, "query")
		if m == nil {
			continue
		}
		for action := range s.ops[service] {
			op, ok := m.Operations[action]
			if !ok {
				t.Errorf("%s:%s is not in botocore's model", service, action)
				continue
			}
			empty := op.Output != nil && len(m.Shapes[op.Output.Shape].Members) == 0
			if empty != emptyResults[service+":"+action] {
				t.Errorf("%s:%s: its output shape is empty: %v; in emptyResults: %v", service, action, empty, !empty)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Skip("no botocore query-protocol model of IAM, STS or SQS installed")
	}
	t.Logf("%d operations checked", checked)
}
