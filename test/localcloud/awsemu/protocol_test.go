package awsemu

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

type decodeTarget struct {
	InstanceID []string `query:"InstanceId"`
	Filter     []struct {
		Name  string
		Value []string
	}
	Tags []struct {
		Key   string
		Value string
	}
	Attributes map[string]string
	MaxResults int
	DryRun     bool
	Weight     float64
	ValidUntil time.Time
	Spec       *struct {
		Capacity int64
		Type     string
	} `query:"TargetCapacitySpecification"`
}

func TestDecodeQuery(t *testing.T) {
	parse := func(s string) url.Values {
		v, err := url.ParseQuery(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name  string
		form  string
		check func(t *testing.T, v decodeTarget)
	}{
		{"nested lists sort by index, not by text", "Filter.10.Name=ten&Filter.2.Name=two&Filter.2.Value.2=b&Filter.2.Value.1=a&Filter.10.Value.1=z",
			func(t *testing.T, v decodeTarget) {
				if len(v.Filter) != 2 || v.Filter[0].Name != "two" || v.Filter[1].Name != "ten" ||
					!reflect.DeepEqual(v.Filter[0].Value, []string{"a", "b"}) || !reflect.DeepEqual(v.Filter[1].Value, []string{"z"}) {
					t.Fatalf("Filter = %+v", v.Filter)
				}
			}},
		{"flattened list with a query tag", "InstanceId.1=i-1&InstanceId.2=i-2&Action=DescribeInstances&Version=2016-11-15",
			func(t *testing.T, v decodeTarget) {
				if !reflect.DeepEqual(v.InstanceID, []string{"i-1", "i-2"}) {
					t.Fatalf("InstanceID = %v", v.InstanceID)
				}
			}},
		{"member lists", "Tags.member.1.Key=team&Tags.member.1.Value=infra&Tags.member.2.Key=env",
			func(t *testing.T, v decodeTarget) {
				if len(v.Tags) != 2 || v.Tags[0].Key != "team" || v.Tags[0].Value != "infra" || v.Tags[1].Key != "env" || v.Tags[1].Value != "" {
					t.Fatalf("Tags = %+v", v.Tags)
				}
			}},
		{"entry maps, incomplete entries skipped", "Attributes.entry.1.key=Policy&Attributes.entry.1.value=%7B%7D&Attributes.entry.2.key=lonely",
			func(t *testing.T, v decodeTarget) {
				if !reflect.DeepEqual(v.Attributes, map[string]string{"Policy": "{}"}) {
					t.Fatalf("Attributes = %v", v.Attributes)
				}
			}},
		{"Name/Value maps", "Attributes.1.Name=VisibilityTimeout&Attributes.1.Value=30",
			func(t *testing.T, v decodeTarget) {
				if v.Attributes["VisibilityTimeout"] != "30" {
					t.Fatalf("Attributes = %v", v.Attributes)
				}
			}},
		{"scalars and case-insensitive names", "maxresults=25&DRYRUN=true&Weight=0.5&ValidUntil=2026-11-01T10:00:00Z&TargetCapacitySpecification.Capacity=7&targetcapacityspecification.type=spot",
			func(t *testing.T, v decodeTarget) {
				if v.MaxResults != 25 || !v.DryRun || v.Weight != 0.5 || !v.ValidUntil.Equal(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)) {
					t.Fatalf("scalars = %+v", v)
				}
				if v.Spec == nil || v.Spec.Capacity != 7 || v.Spec.Type != "spot" {
					t.Fatalf("Spec = %+v", v.Spec)
				}
			}},
		{"absent pointer stays nil", "MaxResults=1",
			func(t *testing.T, v decodeTarget) {
				if v.Spec != nil || v.Filter != nil {
					t.Fatalf("untouched fields set: %+v", v)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v decodeTarget
			if err := decodeQuery(parse(tc.form), &v); err != nil {
				t.Fatalf("decodeQuery: %v", err)
			}
			tc.check(t, v)
		})
	}

	for _, tc := range []struct{ form, inMessage string }{
		{"MaxResults=ten", "MaxResults"},
		{"DryRun=maybe", "DryRun"},
		{"Weight=heavy", "Weight"},
		{"ValidUntil=yesterday", "ValidUntil"},
		{"TargetCapacitySpecification.Capacity=1.5", "TargetCapacitySpecification.Capacity"},
		{"Filter.x.Name=a", "Filter.x"},
		{"Filter.0.Name=a", "Filter.0"},
		{"Filter.1.Value.-1=a", "Filter.1.Value.-1"},
		{"Filter.01.Name=a", "Filter.01"},
		// Capacity is int64 here; MaxResults on many inputs is int32.
		{"TargetCapacitySpecification.Capacity=99999999999999999999", "Capacity"},
	} {
		var v decodeTarget
		err := decodeQuery(parse(tc.form), &v)
		if err == nil || err.Code != "InvalidParameterValue" || err.Status != 400 || !strings.Contains(err.Message, tc.inMessage) {
			t.Errorf("decodeQuery(%s) = %v, want InvalidParameterValue naming %s", tc.form, err, tc.inMessage)
		}
	}
}

// TestWriteErrorWithRealClients serves each protocol's error rendering to the
// SDK client that speaks it and checks what the client makes of it.
func TestWriteErrorWithRealClients(t *testing.T) {
	const reqID = "0a1b2c3d-1111-2222-3333-444455556666"
	msg := `bad <input> & "quotes"`
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		proto protocol
		err   *Error
		call  func(cfg aws.Config) error
	}{
		{"ec2 query", protoEC2Query, Errorf(400, "InvalidParameterValue", "%s", msg), func(cfg aws.Config) error {
			_, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
			return err
		}},
		{"ec2 query server fault", protoEC2Query, &Error{Code: "InternalError", Message: msg, Status: 500, Server: true}, func(cfg aws.Config) error {
			_, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
			return err
		}},
		{"iam query", protoQuery, Errorf(404, "NoSuchEntity", "%s", msg), func(cfg aws.Config) error {
			_, err := iam.NewFromConfig(cfg).GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("p")})
			return err
		}},
		{"sts query", protoQuery, Errorf(403, "AccessDenied", "%s", msg), func(cfg aws.Config) error {
			_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}},
		{"sqs json 1.0", protoJSON10, Errorf(400, "QueueDoesNotExist", "%s", msg), func(cfg aws.Config) error {
			_, err := sqs.NewFromConfig(cfg).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")})
			return err
		}},
		{"ssm json 1.1", protoJSON11, Errorf(400, "ParameterNotFound", "%s", msg), func(cfg aws.Config) error {
			_, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/p")})
			return err
		}},
		{"eks rest-json", protoRESTJSON, Errorf(404, "ResourceNotFoundException", "%s", msg), func(cfg aws.Config) error {
			_, err := eks.NewFromConfig(cfg).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("c")})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				service := ""
				if tc.proto == protoJSON10 {
					service = "sqs"
				}
				writeError(w, tc.proto, service, reqID, tc.err)
			}))
			defer ts.Close()
			cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}
			err := tc.call(cfg)
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("not an API error: %v", err)
			}
			want := tc.err.Code
			if tc.proto == protoJSON10 {
				// SQS is query-compatible: the SDK reports the legacy code
				// from x-amzn-query-error, as it does against AWS.
				want = sqsQueryErrorCode(want)
			}
			if apiErr.ErrorCode() != want || apiErr.ErrorMessage() != msg {
				t.Fatalf("got %s / %q, want %s / %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), want, msg)
			}
			var respErr *awshttp.ResponseError
			if !errors.As(err, &respErr) {
				t.Fatalf("no HTTP response error in %v", err)
			}
			if respErr.HTTPStatusCode() != tc.err.Status || respErr.ServiceRequestID() != reqID {
				t.Fatalf("status %d request id %q, want %d %q", respErr.HTTPStatusCode(), respErr.ServiceRequestID(), tc.err.Status, reqID)
			}
		})
	}
}

// TestWriteErrorDefaultsTo400 covers errors built without a status.
func TestWriteErrorDefaultsTo400(t *testing.T) {
	for _, proto := range []protocol{protoEC2Query, protoQuery, protoJSON10, protoJSON11, protoRESTJSON} {
		rec := httptest.NewRecorder()
		writeError(rec, proto, "", "rid", &Error{Code: "Oops", Message: "m"})
		if rec.Code != 400 || rec.Body.Len() == 0 || rec.Header().Get("x-amzn-RequestId") != "rid" {
			t.Errorf("proto %d: status %d body %q", proto, rec.Code, rec.Body.String())
		}
	}
}

func TestDecodeQueryRejectsInt32Overflow(t *testing.T) {
	var v fuzzQueryTarget
	err := decodeQuery(url.Values{"MaxResults": {"4294967297"}}, &v)
	if err == nil || err.Code != "InvalidParameterValue" {
		t.Fatalf("got %v, MaxResults %d", err, v.MaxResults)
	}
}
