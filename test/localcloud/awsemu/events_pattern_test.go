package awsemu

import (
	"encoding/json"
	"testing"
)

const patternTestEvent = `{
  "version": "0", "id": "e1", "detail-type": "EC2 Spot Instance Interruption Warning", "source": "aws.ec2",
  "account": "111122223333", "time": "2026-11-01T12:00:00Z", "region": "us-east-1",
  "resources": ["arn:aws:ec2:us-east-1:111122223333:instance/i-0abc", "arn:aws:ec2:us-east-1:111122223333:instance/i-0def"],
  "detail": {
    "instance-id": "i-0abc", "instance-action": "terminate", "state": "Running", "count": 3, "ratio": 0.5,
    "flag": true, "nothing": null, "ip": "10.0.1.7", "zones": ["us-east-1a", "us-east-1b"],
    "nested": {"deep": {"value": "x"}}, "items": [{"name": "a"}, {"name": "b"}]
  }
}`

func TestEventPatternMatching(t *testing.T) {
	var event map[string]any
	if err := json.Unmarshal([]byte(patternTestEvent), &event); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, pattern string
		want          bool
	}{
		{"source exact", `{"source":["aws.ec2"]}`, true},
		{"source other", `{"source":["aws.s3"]}`, false},
		{"list is OR", `{"source":["aws.s3","aws.ec2"]}`, true},
		{"source and detail-type", `{"source":["aws.ec2"],"detail-type":["EC2 Spot Instance Interruption Warning"]}`, true},
		{"all fields must match", `{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"]}`, false},
		{"account and region", `{"account":["111122223333"],"region":["us-east-1"]}`, true},
		{"resources any element", `{"resources":["arn:aws:ec2:us-east-1:111122223333:instance/i-0def"]}`, true},
		{"resources none", `{"resources":["arn:aws:ec2:us-east-1:111122223333:instance/i-0zzz"]}`, false},
		{"nested detail", `{"detail":{"instance-action":["terminate"]}}`, true},
		{"deep nesting", `{"detail":{"nested":{"deep":{"value":["x"]}}}}`, true},
		{"deep nesting mismatch", `{"detail":{"nested":{"deep":{"value":["y"]}}}}`, false},
		{"array of objects", `{"detail":{"items":{"name":["b"]}}}`, true},
		{"array of strings", `{"detail":{"zones":["us-east-1b"]}}`, true},
		{"number exact", `{"detail":{"count":[3]}}`, true},
		{"number is not string", `{"detail":{"count":["3"]}}`, false},
		{"bool", `{"detail":{"flag":[true]}}`, true},
		{"bool mismatch", `{"detail":{"flag":[false]}}`, false},
		{"null", `{"detail":{"nothing":[null]}}`, true},
		{"missing field", `{"detail":{"absent":["x"]}}`, false},
		{"prefix", `{"source":[{"prefix":"aws."}]}`, true},
		{"prefix mismatch", `{"source":[{"prefix":"custom."}]}`, false},
		{"prefix ignore case", `{"detail":{"state":[{"prefix":{"equals-ignore-case":"RUN"}}]}}`, true},
		{"suffix", `{"detail-type":[{"suffix":"Warning"}]}`, true},
		{"suffix mismatch", `{"detail-type":[{"suffix":"Notice"}]}`, false},
		{"anything-but value", `{"detail":{"state":[{"anything-but":"Stopped"}]}}`, true},
		{"anything-but same value", `{"detail":{"state":[{"anything-but":"Running"}]}}`, false},
		{"anything-but list", `{"detail":{"state":[{"anything-but":["Stopped","Running"]}]}}`, false},
		{"anything-but number", `{"detail":{"count":[{"anything-but":4}]}}`, true},
		{"anything-but prefix", `{"source":[{"anything-but":{"prefix":"aws."}}]}`, false},
		{"anything-but prefix other", `{"source":[{"anything-but":{"prefix":"custom."}}]}`, true},
		{"anything-but suffix", `{"detail-type":[{"anything-but":{"suffix":"Warning"}}]}`, false},
		{"anything-but missing", `{"detail":{"absent":[{"anything-but":"x"}]}}`, false},
		{"exists true", `{"detail":{"instance-id":[{"exists":true}]}}`, true},
		{"exists true missing", `{"detail":{"absent":[{"exists":true}]}}`, false},
		{"exists false missing", `{"detail":{"absent":[{"exists":false}]}}`, true},
		{"exists false present", `{"detail":{"instance-id":[{"exists":false}]}}`, false},
		{"exists on object is not a leaf", `{"detail":{"nested":[{"exists":true}]}}`, false},
		{"numeric range", `{"detail":{"count":[{"numeric":[">",0,"<=",5]}]}}`, true},
		{"numeric range excludes", `{"detail":{"count":[{"numeric":[">",3,"<=",5]}]}}`, false},
		{"numeric float", `{"detail":{"ratio":[{"numeric":["<",1]}]}}`, true},
		{"numeric equal", `{"detail":{"count":[{"numeric":["=",3]}]}}`, true},
		{"numeric on string", `{"detail":{"state":[{"numeric":[">",0]}]}}`, false},
		{"equals-ignore-case", `{"detail":{"state":[{"equals-ignore-case":"running"}]}}`, true},
		{"equals-ignore-case mismatch", `{"detail":{"state":[{"equals-ignore-case":"stopped"}]}}`, false},
		{"wildcard", `{"detail-type":[{"wildcard":"EC2 * Warning"}]}`, true},
		{"cidr", `{"detail":{"ip":[{"cidr":"10.0.0.0/16"}]}}`, true},
		{"cidr outside", `{"detail":{"ip":[{"cidr":"10.1.0.0/16"}]}}`, false},
		{"mixed matchers OR", `{"detail":{"state":["Stopped",{"prefix":"Run"}]}}`, true},
		{"$or", `{"$or":[{"source":["aws.s3"]},{"detail":{"count":[3]}}]}`, true},
		{"$or none", `{"$or":[{"source":["aws.s3"]},{"detail":{"count":[4]}}]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseEventPattern(tc.pattern)
			if err != nil {
				t.Fatalf("pattern rejected: %v", err)
			}
			if got := matchPattern(p, event); got != tc.want {
				t.Fatalf("match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEventPatternValidation(t *testing.T) {
	for _, bad := range []string{
		``,
		`not json`,
		`["aws.ec2"]`,
		`{}`,
		`{"source":"aws.ec2"}`,
		`{"source":[]}`,
		`{"detail":{}}`,
		`{"source":[{"prefix":1}]}`,
		`{"source":[{"prefix":"a","suffix":"b"}]}`,
		`{"source":[{"bogus":"x"}]}`,
		`{"detail":{"n":[{"numeric":[">"]}]}}`,
		`{"detail":{"n":[{"numeric":["~",1]}]}}`,
		`{"detail":{"n":[{"numeric":[">","1"]}]}}`,
		`{"detail":{"n":[{"exists":"yes"}]}}`,
		`{"detail":{"n":[{"anything-but":{"nope":"x"}}]}}`,
		`{"detail":{"n":[{"anything-but":[]}]}}`,
		`{"detail":{"ip":[{"cidr":"10.0.0.0/99"}]}}`,
		`{"source":[["nested"]]}`,
		`{"$or":[{"source":["a"]}]}`,
	} {
		if _, err := parseEventPattern(bad); err == nil {
			t.Errorf("pattern %q accepted; want it rejected", bad)
		}
	}
}
