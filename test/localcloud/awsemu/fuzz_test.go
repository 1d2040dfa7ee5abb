package awsemu

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzQueryTarget covers every kind decodeQuery handles, nested the way EC2
// and IAM inputs are.
type fuzzQueryTarget struct {
	InstanceID []string `query:"InstanceId"`
	Filter     []struct {
		Name  string
		Value []string
	}
	Tags []struct {
		Key   string
		Value string
	}
	Attributes   map[string]string
	MaxResults   int32
	Count        int
	DryRun       bool
	Ratio        float64
	ValidUntil   time.Time
	LaunchConfig *struct {
		Overrides []struct {
			InstanceType string
			Priority     float64
			SubnetID     string `query:"SubnetId"`
		}
		Spec struct {
			Version string
			Target  *struct{ Capacity int }
		}
	} `query:"LaunchTemplateConfigs"`
	// SQS's: a blob, and a map of structures.
	Blob             []byte
	MessageAttribute map[string]SQSMessageAttribute
}

func FuzzQueryDecoder(f *testing.F) {
	for _, seed := range []string{
		"Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=instance-state-name&Filter.1.Value.1=running&Filter.1.Value.2=pending&Filter.2.Name=tag:k&Filter.2.Value.1=v",
		"InstanceId.1=i-0123&InstanceId.2=i-4567&DryRun=true&MaxResults=5",
		"Tags.member.1.Key=a&Tags.member.1.Value=b&Tags.member.2.Key=c",
		"Attributes.entry.1.key=Policy&Attributes.entry.1.value=%7B%7D&Attributes.entry.2.key=k",
		"LaunchTemplateConfigs.Overrides.1.InstanceType=m5.large&LaunchTemplateConfigs.Overrides.1.Priority=1.5&LaunchTemplateConfigs.Spec.Target.Capacity=3",
		"ValidUntil=2026-11-01T00:00:00Z&Ratio=0.25&Count=-1",
		"Filter.x.Name=bad&Count=ten",
		"Filter.01.Name=a&Filter.1.Name=b",
		"MaxResults=99999999999&DryRun=maybe",
		"Tags.member.0.Key=a&Attributes.1.Name=n&Attributes.1.Value=v",
		"filter.1.name=lower&FILTER.1.VALUE.1=upper",
		"..=&Filter..Name=x&Filter.1..=y",
		"MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=AAE%3D&MessageAttribute.1.Value.StringListValue.1=x",
		"Blob=AAE%3D&MessageAttribute.entry.1.key=k&MessageAttribute.entry.1.value.BinaryListValue.1=%21&MessageAttribute.2.Value=flat",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		// ParseQuery keeps what it could parse; decode that part too.
		form, _ := url.ParseQuery(body)
		var v fuzzQueryTarget
		err := decodeQuery(form, &v)
		if err == nil {
			checkInt32Decoded(t, form, v.MaxResults)
		}
		if err != nil && (err.Code != "InvalidParameterValue" || err.Status != 400) {
			t.Fatalf("decodeQuery(%q) returned %v (status %d), want InvalidParameterValue", body, err, err.Status)
		}
	})
}

// fuzzServices are the SigV4 scopes requests are signed for.
var fuzzServices = []string{"", "ec2", "iam", "sts", "sqs", "events", "ssm", "pricing", "eks", "s3"}

func FuzzServeHTTP(f *testing.F) {
	type seed struct {
		service byte
		target  string
		action  string
		path    string
		body    string
	}
	for _, sd := range []seed{
		{6, "AmazonSSM.GetParameter", "", "/", `{"Name":"` + al2023Param + `"}`},
		{6, "AmazonSSM.GetParameters", "", "/", `{"Names":["/a","/b"],"WithDecryption":true}`},
		{6, "AmazonSSM.GetParametersByPath", "", "/", `{"Path":"/aws/service","Recursive":true,"MaxResults":3,"NextToken":"YWZ0ZXI6L2E"}`},
		{6, "AmazonSSM.PutParameter", "", "/", `{"Name":"/x","Value":"ami-0123456789abcdef0","Type":"String","DataType":"aws:ec2:image","Overwrite":true}`},
		{6, "AmazonSSM.DeleteParameter", "", "/", `{"Name":"/x"}`},
		{6, "AmazonSSM.GetParametersByPath", "", "/", `{"Path":"/","ParameterFilters":[{"Key":"Type","Option":"Equals","Values":["String"]}]}`},
		{7, "AWSPriceListService.GetProducts", "", "/", `{"ServiceCode":"AmazonEC2","Filters":[{"Type":"TERM_MATCH","Field":"instanceType","Value":"m5.large"}],"MaxResults":2}`},
		{7, "AWSPriceListService.DescribeServices", "", "/", `{"ServiceCode":"AmazonEC2","NextToken":"b2Zmc2V0OjE"}`},
		{7, "AWSPriceListService.GetAttributeValues", "", "/", `{"ServiceCode":"AmazonEC2","AttributeName":"vcpu"}`},
		{4, "AmazonSQS.SendMessage", "", "/", `{"QueueUrl":"http://127.0.0.1/111122223333/q","MessageBody":"hi"}`},
		{4, "", "SendMessage", "/", "Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2F127.0.0.1%2F111122223333%2Fq&MessageBody=hi&MessageAttribute.1.Name=b&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=AAE%3D"},
		{5, "AWSEvents.PutRule", "", "/", `{"Name":"r","EventPattern":"{\"source\":[\"aws.ec2\"]}"}`},
		{1, "", "DescribeInstances", "/", "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=instance-type&Filter.1.Value.1=m5.large"},
		{1, "", "CreateFleet", "/", "Action=CreateFleet&Type=instant&TargetCapacitySpecification.TotalTargetCapacity=x"},
		{2, "", "GetInstanceProfile", "/", "Action=GetInstanceProfile&Version=2010-05-08&InstanceProfileName=p"},
		{3, "", "GetCallerIdentity", "/", "Action=GetCallerIdentity&Version=2011-06-15"},
		{0, "", "", "/", ""},
		{8, "", "", "/clusters/localcloud", ""},
		{8, "", "", "/clusters/x/node-groups", `{"nodegroupName":1}`},
		{9, "", "ListBuckets", "/", "not a form %zz"},
		{6, "AmazonSSM.Nope", "", "/", "{"},
		{0, "Bogus.Target", "", "/", "{}"},
		{7, "AWSPriceListService.GetProducts", "", "/", `{"ServiceCode":"AmazonEC2","Filters":[{"Type":"NOPE","Field":"","Value":null}],"MaxResults":-1,"NextToken":"%%%"}`},
	} {
		f.Add(sd.service, sd.target, sd.action, sd.path, []byte(sd.body))
	}
	s := NewForTest(f, Options{})
	f.Fuzz(func(t *testing.T, service byte, target, action, path string, body []byte) {
		if strings.HasPrefix(path, adminPrefix) || !strings.HasPrefix(path, "/") {
			// The admin API is not AWS's surface, and fault injection would
			// make later inputs behave differently.
			path = "/"
		}
		if bytes.Contains(bytes.ToLower(body), []byte("waittimeseconds")) {
			// Long polls are correct but would stall the fuzzer.
			return
		}
		u := &url.URL{Path: path}
		if action != "" {
			u.RawQuery = url.Values{"Action": {action}}.Encode()
		}
		req := &http.Request{Method: http.MethodPost, URL: u, Header: http.Header{}, Host: "127.0.0.1",
			Body: httpBody(body), ContentLength: int64(len(body))}
		if path != "/" {
			req.Method = http.MethodGet
		}
		if svc := fuzzServices[int(service)%len(fuzzServices)]; svc != "" {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261101/us-east-1/"+svc+"/aws4_request, SignedHeaders=host, Signature=0")
		}
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.ServeHTTP(rec, req)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			// Only long polls may take this long, and they are excluded above.
			buf := make([]byte, 1<<20)
			t.Fatalf("no answer within 30s for target %q action %q path %q\n%s", target, action, path, buf[:runtime.Stack(buf, true)])
		}
		if code := rec.Code; code != 200 && (code < 400 || code > 599) {
			t.Fatalf("status %d for target %q action %q path %q", code, target, action, path)
		}
		if rec.Body.Len() == 0 {
			t.Fatalf("empty body (status %d) for target %q action %q path %q", rec.Code, target, action, path)
		}
		if rec.Code == 500 && strings.Contains(rec.Body.String(), "internal error in") {
			// A recovered handler panic: a bug even though the server survived.
			t.Fatalf("handler panicked for target %q action %q: %s", target, action, rec.Body.String())
		}
	})
}

type byteBody struct{ *bytes.Reader }

func (byteBody) Close() error { return nil }

func httpBody(b []byte) byteBody { return byteBody{bytes.NewReader(b)} }

// TestDecodeQueryErrorsAreTyped guards the contract the fuzzer relies on.
func TestDecodeQueryErrorsAreTyped(t *testing.T) {
	var v fuzzQueryTarget
	err := decodeQuery(url.Values{"Count": {"x"}}, &v)
	var e *Error
	if !errors.As(error(err), &e) || e.Code != "InvalidParameterValue" {
		t.Fatalf("got %v", err)
	}
}

// checkInt32Decoded verifies that an int32 decoded without error holds the
// value sent. Keys differing only in case collide, so only a lone key counts.
func checkInt32Decoded(t *testing.T, form url.Values, got int32) {
	var sent []string
	for k, vals := range form {
		if strings.EqualFold(k, "MaxResults") && len(vals) > 0 {
			sent = append(sent, vals[0])
		}
	}
	if len(sent) != 1 {
		return
	}
	n, err := strconv.ParseInt(sent[0], 10, 32)
	if err != nil || int32(n) != got {
		t.Fatalf("MaxResults %q decoded without error as %d", sent[0], got)
	}
}
