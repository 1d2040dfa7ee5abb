package iameval

import (
	"strings"
	"testing"
)

const acct = "123456789012"

var (
	userCarlos = "arn:aws:iam::" + acct + ":user/carlossalazar"
	userBob    = "arn:aws:iam::" + acct + ":user/Bob"
	session    = "arn:aws:sts::" + acct + ":assumed-role/ops/alice"
)

// singleCase evaluates one document with (*Policy).Evaluate.
type singleCase struct {
	name string
	doc  string
	kind Kind
	req  Request
	want Decision
}

func ctx(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

func req(action, resource string, context map[string][]string) Request {
	return Request{Principal: userCarlos, Action: action, Resource: resource, Context: context}
}

// The identity policy from the "Policy evaluation logic" example.
const carlosPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AllowS3ListRead", "Effect": "Allow",
     "Action": ["s3:GetBucketLocation", "s3:ListAllMyBuckets"], "Resource": "arn:aws:s3:::*"},
    {"Sid": "AllowS3Self", "Effect": "Allow", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]},
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"}
  ]
}`

const notActionPolicy = `{"Version": "2012-10-17", "Statement": {
  "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}`

const notResourcePolicy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
  {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::home", "arn:aws:s3:::home/*"]}]}`

const ifExistsPolicy = `{"Version": "2012-10-17", "Statement": {
  "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
  "Condition": {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}}}`

const notEqualsPolicy = `{"Version": "2012-10-17", "Statement": {
  "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
  "Condition": {"StringNotEquals": {"aws:PrincipalTag/role": ["audit", "security"]}}}}`

const tagKeysPolicy = `{"Version": "2012-10-17", "Statement": [
  {"Sid": "AllValues", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
   "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["Name", "kubernetes.io/cluster/demo"]}}}]}`

const anyValuePolicy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
   "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["Name", "Team"]}}}]}`

const nullPolicy = `{"Version": "2012-10-17", "Statement": [
  {"Sid": "LongTermOnly", "Effect": "Allow", "Action": "ec2:*", "Resource": "*",
   "Condition": {"Null": {"aws:TokenIssueTime": "true"}}},
  {"Sid": "TaggedOnly", "Effect": "Allow", "Action": "s3:*", "Resource": "*",
   "Condition": {"Null": {"aws:RequestTag/Team": false}}}]}`

// Tag-on-create, the way EKS node group and Karpenter policies are written.
const tagOnCreatePolicy = `{"Version": "2012-10-17", "Statement": [
  {"Sid": "RunTagged", "Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:CreateTags"],
   "Resource": "arn:aws:ec2:*:*:instance/*",
   "Condition": {
     "StringEquals": {"aws:RequestTag/kubernetes.io/cluster/demo": "owned"},
     "ForAllValues:StringEquals": {"aws:TagKeys": ["kubernetes.io/cluster/demo", "Name", "karpenter.sh/nodepool"]}}}]}`

const usernamePolicy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
   "Resource": "arn:aws:s3:::home/${aws:username}/*"},
  {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::home",
   "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/", "${aws:userid, 'anonymous'}/*"]}}}]}`

const legacyVariablePolicy = `{"Version": "2008-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::home/${aws:username}/*"}]}`

const escapePolicy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
   "Condition": {"StringLike": {"s3:prefix": "literal-${*}-${?}-${$}"}}}]}`

const datePolicy = `{"Version": "2012-10-17", "Statement": [
  {"Sid": "Window", "Effect": "Allow", "Action": "iam:*AccessKey*", "Resource": "*",
   "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:01Z"},
                 "DateLessThan": {"aws:CurrentTime": 1893456000}}}]}`

const numericPolicy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::example_bucket",
   "Condition": {"NumericLessThanEquals": {"s3:max-keys": 10}}}]}`

const casePolicy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "EC2:describe*", "Resource": "*",
   "Condition": {"IpAddress": {"AWS:SourceIP": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}}]}`

const secureTransportPolicy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
  {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
  {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}`

const arnLikePolicy = `{"Version": "2012-10-17", "Statement": [
  {"Sid": "Arn", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*",
   "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}}},
  {"Sid": "Str", "Effect": "Allow", "Action": "sns:Publish", "Resource": "*",
   "Condition": {"StringLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}}}]}`

const qualifiedNegatedPolicy = `{"Version": "2012-10-17", "Statement": [
  {"Sid": "NoReservedKeys", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
   "Condition": {"ForAllValues:StringNotLike": {"aws:TagKeys": "aws:*"}}},
  {"Sid": "SomeOtherKey", "Effect": "Allow", "Action": "ec2:DeleteTags", "Resource": "*",
   "Condition": {"ForAnyValue:StringNotEquals": {"aws:TagKeys": "Name"}}}]}`

const binaryPolicy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
   "Condition": {"BinaryEquals": {"kms:EncryptionContext": "aGVsbG8="}}}]}`

const tagCasePolicy = `{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "ec2:TerminateInstances", "Resource": "*",
   "Condition": {"StringEquals": {"aws:ResourceTag/Team": "${aws:PrincipalTag/team}"}}}]}`

var singleCases = []singleCase{
	{"documented deny on log buckets beats the allow", carlosPolicy, IdentityPolicy,
		req("s3:PutObject", "arn:aws:s3:::carlossalazar-logs/f", nil), ExplicitDeny},
	{"own bucket allowed", carlosPolicy, IdentityPolicy,
		req("s3:PutObject", "arn:aws:s3:::carlossalazar/f", nil), Allow},
	{"unlisted action implicitly denied", carlosPolicy, IdentityPolicy,
		req("s3:DeleteBucket", "arn:aws:s3:::other", nil), ImplicitDeny},
	{"NotAction allow covers other services", notActionPolicy, IdentityPolicy,
		req("ec2:RunInstances", "*", nil), Allow},
	{"NotAction allow excludes its actions", notActionPolicy, IdentityPolicy,
		req("IAM:CreateUser", "*", nil), ImplicitDeny},
	{"NotResource deny spares listed resource", notResourcePolicy, IdentityPolicy,
		req("s3:GetObject", "arn:aws:s3:::home/x", nil), Allow},
	{"NotResource deny hits others", notResourcePolicy, IdentityPolicy,
		req("s3:GetObject", "arn:aws:s3:::other/x", nil), ExplicitDeny},
	{"IfExists with missing key is true", ifExistsPolicy, IdentityPolicy,
		req("ec2:RunInstances", "*", nil), Allow},
	{"IfExists with present key still checks", ifExistsPolicy, IdentityPolicy,
		req("ec2:RunInstances", "*", ctx("ec2:InstanceType", "c5.large")), ImplicitDeny},
	{"IfExists with matching key", ifExistsPolicy, IdentityPolicy,
		req("ec2:RunInstances", "*", ctx("ec2:InstanceType", "t2.micro")), Allow},
	{"StringNotEquals with missing key is true", notEqualsPolicy, IdentityPolicy,
		req("s3:GetObject", "*", nil), Allow},
	{"StringNotEquals takes NOR over values", notEqualsPolicy, IdentityPolicy,
		req("s3:GetObject", "*", ctx("aws:PrincipalTag/role", "security")), ImplicitDeny},
	{"StringNotEquals with other value", notEqualsPolicy, IdentityPolicy,
		req("s3:GetObject", "*", ctx("aws:PrincipalTag/role", "dev")), Allow},
	{"ForAllValues on missing key is true", tagKeysPolicy, IdentityPolicy,
		req("ec2:CreateTags", "*", nil), Allow},
	{"ForAllValues on empty key is true", tagKeysPolicy, IdentityPolicy,
		req("ec2:CreateTags", "*", map[string][]string{"aws:TagKeys": {}}), Allow},
	{"ForAllValues subset", tagKeysPolicy, IdentityPolicy,
		req("ec2:CreateTags", "*", ctx("aws:TagKeys", "Name")), Allow},
	{"ForAllValues with an extra key", tagKeysPolicy, IdentityPolicy,
		req("ec2:CreateTags", "*", ctx("aws:TagKeys", "Name", "aws:TagKeys", "Owner")), ImplicitDeny},
	{"ForAnyValue on missing key is false", anyValuePolicy, IdentityPolicy,
		req("ec2:CreateTags", "*", nil), ImplicitDeny},
	{"ForAnyValue with one match", anyValuePolicy, IdentityPolicy,
		req("ec2:CreateTags", "*", ctx("aws:TagKeys", "Owner", "aws:TagKeys", "Team")), Allow},
	{"Null true with key absent", nullPolicy, IdentityPolicy,
		req("ec2:DescribeInstances", "*", nil), Allow},
	{"Null true with key present", nullPolicy, IdentityPolicy,
		req("ec2:DescribeInstances", "*", ctx("aws:TokenIssueTime", "2024-01-01T00:00:00Z")), ImplicitDeny},
	{"Null false with key present", nullPolicy, IdentityPolicy,
		req("s3:PutObject", "*", ctx("aws:RequestTag/Team", "a")), Allow},
	{"Null false with key absent", nullPolicy, IdentityPolicy,
		req("s3:PutObject", "*", nil), ImplicitDeny},
	{"tag on create with required tag", tagOnCreatePolicy, IdentityPolicy,
		req("ec2:RunInstances", "arn:aws:ec2:us-west-2:"+acct+":instance/*", ctx(
			"aws:RequestTag/kubernetes.io/cluster/demo", "owned",
			"aws:TagKeys", "kubernetes.io/cluster/demo", "aws:TagKeys", "Name")), Allow},
	{"tag key part matches without case", tagOnCreatePolicy, IdentityPolicy,
		req("ec2:RunInstances", "arn:aws:ec2:us-west-2:"+acct+":instance/*", ctx(
			"aws:requesttag/Kubernetes.IO/cluster/DEMO", "owned")), Allow},
	{"tag on create with wrong value", tagOnCreatePolicy, IdentityPolicy,
		req("ec2:RunInstances", "arn:aws:ec2:us-west-2:"+acct+":instance/*", ctx(
			"aws:RequestTag/kubernetes.io/cluster/demo", "shared")), ImplicitDeny},
	{"tag on create without tag", tagOnCreatePolicy, IdentityPolicy,
		req("ec2:RunInstances", "arn:aws:ec2:us-west-2:"+acct+":instance/*", nil), ImplicitDeny},
	{"tag on create with unlisted tag key", tagOnCreatePolicy, IdentityPolicy,
		req("ec2:CreateTags", "arn:aws:ec2:us-west-2:"+acct+":instance/i-1", ctx(
			"aws:RequestTag/kubernetes.io/cluster/demo", "owned", "aws:TagKeys", "Secret")), ImplicitDeny},
	{"tag on create resource type", tagOnCreatePolicy, IdentityPolicy,
		req("ec2:RunInstances", "arn:aws:ec2:us-west-2:"+acct+":volume/*", ctx(
			"aws:RequestTag/kubernetes.io/cluster/demo", "owned")), ImplicitDeny},
	{"username variable in resource", usernamePolicy, IdentityPolicy,
		req("s3:GetObject", "arn:aws:s3:::home/carlos/notes", ctx("aws:username", "carlos")), Allow},
	{"username variable, someone else's folder", usernamePolicy, IdentityPolicy,
		req("s3:GetObject", "arn:aws:s3:::home/bob/notes", ctx("aws:username", "carlos")), ImplicitDeny},
	{"unresolved variable matches nothing", usernamePolicy, IdentityPolicy,
		req("s3:GetObject", "arn:aws:s3:::home//notes", nil), ImplicitDeny},
	{"username variable in condition", usernamePolicy, IdentityPolicy,
		req("s3:ListBucket", "arn:aws:s3:::home", ctx("aws:username", "carlos", "s3:prefix", "home/carlos/")), Allow},
	{"variable default", usernamePolicy, IdentityPolicy,
		req("s3:ListBucket", "arn:aws:s3:::home", ctx("s3:prefix", "anonymous/x")), Allow},
	{"legacy version keeps variables literal", legacyVariablePolicy, IdentityPolicy,
		req("s3:GetObject", "arn:aws:s3:::home/carlos/x", ctx("aws:username", "carlos")), ImplicitDeny},
	{"legacy version literal matches literally", legacyVariablePolicy, IdentityPolicy,
		req("s3:GetObject", "arn:aws:s3:::home/${aws:username}/x", nil), Allow},
	{"escapes are literal", escapePolicy, IdentityPolicy,
		req("s3:GetObject", "*", ctx("s3:prefix", "literal-*-?-$")), Allow},
	{"escaped star is no wildcard", escapePolicy, IdentityPolicy,
		req("s3:GetObject", "*", ctx("s3:prefix", "literal-xx-?-$")), ImplicitDeny},
	{"date inside window", datePolicy, IdentityPolicy,
		req("iam:CreateAccessKey", "*", ctx("aws:CurrentTime", "2024-05-01T12:00:00Z")), Allow},
	{"date as epoch seconds", datePolicy, IdentityPolicy,
		req("iam:CreateAccessKey", "*", ctx("aws:CurrentTime", "1714564800")), Allow},
	{"date before window", datePolicy, IdentityPolicy,
		req("iam:CreateAccessKey", "*", ctx("aws:CurrentTime", "2020-01-01T00:00:00Z")), ImplicitDeny},
	{"date after window", datePolicy, IdentityPolicy,
		req("iam:CreateAccessKey", "*", ctx("aws:CurrentTime", "2031-01-01")), ImplicitDeny},
	{"numeric at limit", numericPolicy, IdentityPolicy,
		req("s3:ListBucket", "arn:aws:s3:::example_bucket", ctx("s3:max-keys", "10")), Allow},
	{"numeric over limit", numericPolicy, IdentityPolicy,
		req("s3:ListBucket", "arn:aws:s3:::example_bucket", ctx("s3:max-keys", "11")), ImplicitDeny},
	{"numeric not a number", numericPolicy, IdentityPolicy,
		req("s3:ListBucket", "arn:aws:s3:::example_bucket", ctx("s3:max-keys", "ten")), ImplicitDeny},
	{"action and key names ignore case", casePolicy, IdentityPolicy,
		req("ec2:DescribeInstances", "*", ctx("aws:sourceip", "203.0.113.9")), Allow},
	{"ipv6 range", casePolicy, IdentityPolicy,
		req("ec2:DescribeInstances", "*", ctx("aws:SourceIp", "2001:db8:1234:5678::1")), Allow},
	{"ip outside range", casePolicy, IdentityPolicy,
		req("ec2:DescribeInstances", "*", ctx("aws:SourceIp", "198.51.100.1")), ImplicitDeny},
	{"action wildcard stays in action", casePolicy, IdentityPolicy,
		req("ec2messages:describeX", "*", ctx("aws:SourceIp", "203.0.113.9")), ImplicitDeny},
	{"Bool deny on plain http", secureTransportPolicy, IdentityPolicy,
		req("s3:GetObject", "*", ctx("aws:SecureTransport", "false", "aws:SourceIp", "10.1.2.3")), ExplicitDeny},
	{"Bool deny spares https", secureTransportPolicy, IdentityPolicy,
		req("s3:GetObject", "*", ctx("aws:SecureTransport", "true", "aws:SourceIp", "10.1.2.3")), Allow},
	{"NotIpAddress deny", secureTransportPolicy, IdentityPolicy,
		req("s3:GetObject", "*", ctx("aws:SecureTransport", "true", "aws:SourceIp", "192.0.2.1")), ExplicitDeny},
	{"ArnLike keeps wildcards in their field", arnLikePolicy, IdentityPolicy,
		req("sqs:SendMessage", "*", ctx("aws:SourceArn", "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt")), ImplicitDeny},
	{"StringLike spans fields", arnLikePolicy, IdentityPolicy,
		req("sns:Publish", "*", ctx("aws:SourceArn", "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt")), Allow},
	{"ArnLike on a fitting ARN", arnLikePolicy, IdentityPolicy,
		req("sqs:SendMessage", "*", ctx("aws:SourceArn", "arn:aws:someservice:us-east-2:111122223333:finance/a:b")), Allow},
	{"ForAllValues negated, all pass", qualifiedNegatedPolicy, IdentityPolicy,
		req("ec2:CreateTags", "*", ctx("aws:TagKeys", "Name", "aws:TagKeys", "Team")), Allow},
	{"ForAllValues negated, one fails", qualifiedNegatedPolicy, IdentityPolicy,
		req("ec2:CreateTags", "*", ctx("aws:TagKeys", "Name", "aws:TagKeys", "aws:x")), ImplicitDeny},
	{"ForAnyValue negated, one passes", qualifiedNegatedPolicy, IdentityPolicy,
		req("ec2:DeleteTags", "*", ctx("aws:TagKeys", "Name", "aws:TagKeys", "Team")), Allow},
	{"ForAnyValue negated, none pass", qualifiedNegatedPolicy, IdentityPolicy,
		req("ec2:DeleteTags", "*", ctx("aws:TagKeys", "Name")), ImplicitDeny},
	{"BinaryEquals on raw bytes", binaryPolicy, IdentityPolicy,
		req("kms:Decrypt", "*", ctx("kms:EncryptionContext", "hello")), Allow},
	{"BinaryEquals mismatch", binaryPolicy, IdentityPolicy,
		req("kms:Decrypt", "*", ctx("kms:EncryptionContext", "hellO")), ImplicitDeny},
	{"principal tag variable", tagCasePolicy, IdentityPolicy,
		req("ec2:TerminateInstances", "*", ctx("aws:ResourceTag/team", "blue", "aws:PrincipalTag/Team", "blue")), Allow},
	{"principal tag variable mismatch", tagCasePolicy, IdentityPolicy,
		req("ec2:TerminateInstances", "*", ctx("aws:ResourceTag/team", "blue", "aws:PrincipalTag/Team", "red")), ImplicitDeny},
}

func TestPolicyEvaluate(t *testing.T) {
	for _, tc := range singleCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.doc, tc.kind)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := p.Evaluate(tc.req)
			if got.Decision != tc.want {
				t.Fatalf("Evaluate(%s on %s) = %v (%+v), want %v", tc.req.Action, tc.req.Resource, got.Decision, got, tc.want)
			}
			if (got.Decision == ImplicitDeny) != (len(got.Deciding) == 0) {
				t.Errorf("Deciding = %v for %v", got.Deciding, got.Decision)
			}
		})
	}
}

func TestDecidingNamesStatement(t *testing.T) {
	p, err := Parse(carlosPolicy, IdentityPolicy)
	if err != nil {
		t.Fatal(err)
	}
	p.ID = "carlos"
	got := p.Evaluate(req("s3:PutObject", "arn:aws:s3:::carlossalazar-logs/f", nil))
	want := Match{Policy: "carlos", Sid: "DenyS3Logs", Index: 2}
	if len(got.Deciding) != 1 || got.Deciding[0] != want {
		t.Fatalf("Deciding = %+v, want [%+v]", got.Deciding, want)
	}
}

func TestParseErrors(t *testing.T) {
	const okStmt = `"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"`
	cases := []struct {
		name, doc string
		kind      Kind
		want      string
	}{
		{"not json", `{"Version": `, IdentityPolicy, msgSyntax},
		{"not an object", `[]`, IdentityPolicy, msgSyntax},
		{"null", `null`, IdentityPolicy, msgSyntax},
		{"trailing data", `{"Version": "2012-10-17", "Statement": []}}`, IdentityPolicy, msgSyntax},
		{"statement null", `{"Version": "2012-10-17", "Statement": null}`, IdentityPolicy, msgSyntax},
		{"condition value null", `{"Version": "2012-10-17", "Statement": {` + okStmt + `, "Condition": {"StringEquals": {"aws:username": null}}}}`, IdentityPolicy, msgSyntax},
		{"unknown top field", `{"Version": "2012-10-17", "Foo": 1, "Statement": {` + okStmt + `}}`, IdentityPolicy, "Unknown field Foo"},
		{"unknown statement field", `{"Version": "2012-10-17", "Statement": {` + okStmt + `, "Foo": "x"}}`, IdentityPolicy, "Unknown field Foo"},
		{"bad version", `{"Version": "2012-10-18", "Statement": {` + okStmt + `}}`, IdentityPolicy, msgVersion},
		{"no statement", `{"Version": "2012-10-17"}`, IdentityPolicy, msgNoStatement},
		{"statement is a string", `{"Version": "2012-10-17", "Statement": "x"}`, IdentityPolicy, msgSyntax},
		{"principal in identity policy", `{"Version": "2012-10-17", "Statement": {"Principal": "*", ` + okStmt + `}}`, IdentityPolicy, msgHasPrincipal},
		{"no principal in resource policy", `{"Version": "2012-10-17", "Statement": {` + okStmt + `}}`, ResourcePolicy, msgNoPrincipal},
		{"no principal in trust policy", `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}}`, TrustPolicy, msgNoPrincipal},
		{"resource in trust policy", `{"Version": "2012-10-17", "Statement": {"Principal": {"Service": "ec2.amazonaws.com"}, ` + okStmt + `}}`, TrustPolicy, msgTrustResource},
		{"no action", `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Resource": "*"}}`, IdentityPolicy, msgNoAction},
		{"empty action list", `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": [], "Resource": "*"}}`, IdentityPolicy, msgNoAction},
		{"no resource", `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*"}}`, IdentityPolicy, msgNoResource},
		{"no effect", `{"Version": "2012-10-17", "Statement": {"Action": "s3:*", "Resource": "*"}}`, IdentityPolicy, msgNoEffect},
		{"bad effect", `{"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "s3:*", "Resource": "*"}}`, IdentityPolicy, "Invalid effect: allow"},
		{"action without vendor", `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "GetObject", "Resource": "*"}}`, IdentityPolicy, msgVendor},
		{"action with two colons", `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:a:b", "Resource": "*"}}`, IdentityPolicy, msgOneColon},
		{"action and NotAction", `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:a", "NotAction": "s3:b", "Resource": "*"}}`, IdentityPolicy, msgSyntax},
		{"action is a number", `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": 3, "Resource": "*"}}`, IdentityPolicy, msgSyntax},
		{"legacy bad resource", `{"Statement": {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam:123:user/x"}}`, IdentityPolicy, msgLegacy},
		{"modern bad resource", `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "bucket"}}`, IdentityPolicy, `Resource bucket must be in ARN format or "*".`},
		{"unknown operator", `{"Version": "2012-10-17", "Statement": {` + okStmt + `, "Condition": {"StringEqualz": {"aws:username": "x"}}}}`, IdentityPolicy, "Invalid Condition type : StringEqualz"},
		{"Null IfExists", `{"Version": "2012-10-17", "Statement": {` + okStmt + `, "Condition": {"NullIfExists": {"aws:username": "true"}}}}`, IdentityPolicy, "Invalid Condition type : NullIfExists"},
		{"condition without operator", `{"Version": "2012-10-17", "Statement": {` + okStmt + `, "Condition": {"aws:username": "x"}}}`, IdentityPolicy, msgSyntax},
		{"condition value object", `{"Version": "2012-10-17", "Statement": {` + okStmt + `, "Condition": {"StringEquals": {"aws:username": {"a": 1}}}}}`, IdentityPolicy, msgSyntax},
		{"condition key without vendor", `{"Version": "2012-10-17", "Statement": {` + okStmt + `, "Condition": {"StringEquals": {"username": "x"}}}}`, IdentityPolicy, msgVendor},
		{"duplicate sid", `{"Version": "2012-10-17", "Statement": [{"Sid": "A", ` + okStmt + `}, {"Sid": "A", ` + okStmt + `}]}`, IdentityPolicy, msgDuplicateSid},
		{"sid with hyphen in IAM", `{"Version": "2012-10-17", "Statement": {"Sid": "a-b", ` + okStmt + `}}`, IdentityPolicy, msgAlphanumericID},
		{"partial principal wildcard", `{"Version": "2012-10-17", "Statement": {"Principal": {"AWS": "arn:aws:iam::123456789012:role/*"}, ` + okStmt + `}}`, ResourcePolicy, `Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/*"`},
		{"principal not an ARN", `{"Version": "2012-10-17", "Statement": {"Principal": {"AWS": "bob"}, ` + okStmt + `}}`, ResourcePolicy, `Invalid principal in policy: "AWS":"bob"`},
		{"unknown principal type", `{"Version": "2012-10-17", "Statement": {"Principal": {"Robot": "x"}, ` + okStmt + `}}`, ResourcePolicy, `Invalid principal in policy: "Robot"`},
		{"principal string", `{"Version": "2012-10-17", "Statement": {"Principal": "123456789012", ` + okStmt + `}}`, ResourcePolicy, `Invalid principal in policy: "123456789012"`},
		{"principal null", `{"Version": "2012-10-17", "Statement": {"Principal": null, ` + okStmt + `}}`, ResourcePolicy, msgSyntax},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.doc, tc.kind)
			pe, ok := err.(*ParseError)
			if !ok {
				t.Fatalf("Parse error = %v (%T), want *ParseError %q", err, err, tc.want)
			}
			if pe.Message != tc.want {
				t.Fatalf("Message = %q, want %q", pe.Message, tc.want)
			}
			if !strings.Contains(pe.Error(), tc.want) {
				t.Errorf("Error() = %q does not carry the message", pe.Error())
			}
		})
	}
}

func TestParseShapes(t *testing.T) {
	p, err := Parse(`{"Version": "2012-10-17", "Id": "q", "Statement": {"Sid": "S", "Effect": "Allow",
	  "Principal": {"AWS": ["123456789012", "arn:aws:iam::123456789012:user/Bob"], "Service": "sqs.amazonaws.com"},
	  "Action": ["sqs:SendMessage"], "Resource": "arn:aws:sqs:us-east-1:123456789012:q",
	  "Condition": {"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a", 1, true]}, "Bool": {"aws:SecureTransport": true}}}}`, ResourcePolicy)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Statements[0]
	if p.ID != "q" || s.Sid != "S" || len(s.Principal.AWS) != 2 || len(s.Principal.Service) != 1 {
		t.Fatalf("parsed %+v / %+v", p, s.Principal)
	}
	want := []Condition{
		{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"true"}},
		{Operator: "StringLike", Qualifier: ForAnyValue, IfExists: true, Key: "aws:TagKeys", Values: []string{"a", "1", "true"}},
	}
	if len(s.Condition) != len(want) {
		t.Fatalf("conditions %+v", s.Condition)
	}
	for i := range want {
		g, w := s.Condition[i], want[i]
		if g.Operator != w.Operator || g.Qualifier != w.Qualifier || g.IfExists != w.IfExists || g.Key != w.Key || strings.Join(g.Values, ",") != strings.Join(w.Values, ",") {
			t.Errorf("condition %d = %+v, want %+v", i, g, w)
		}
	}
	if _, err := Parse(`{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "arn:aws:sqs:*:*:*", "Sid": "any thing"}]}`, ResourcePolicy); err != nil {
		t.Errorf("resource policy with a spaced Sid and no Version: %v", err)
	}
}
