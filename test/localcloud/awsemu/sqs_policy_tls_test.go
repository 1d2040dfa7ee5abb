package awsemu

import "testing"

// A queue policy that denies non-TLS access must still let services send:
// they always connect with TLS.
func TestQueuePolicySecureTransport(t *testing.T) {
	const arn = "arn:aws:sqs:us-east-1:000000000000:q"
	allow := `{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + arn + `"}`
	for _, tc := range []struct {
		deny string
		want bool
	}{
		{`{"Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"` + arn + `","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, true},
		{`{"Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"` + arn + `","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`, false},
		{`{"Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"` + arn + `"}`, false},
	} {
		doc := `{"Version":"2012-10-17","Statement":[` + allow + `,` + tc.deny + `]}`
		if got := policyAllowsService(doc, "events.amazonaws.com", "sqs:SendMessage", arn, "arn:aws:events:us-east-1:000000000000:rule/r"); got != tc.want {
			t.Errorf("deny %s: allowed=%v, want %v", tc.deny, got, tc.want)
		}
	}
}
