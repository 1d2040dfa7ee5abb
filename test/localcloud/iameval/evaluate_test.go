package iameval

import (
	"testing"
)

const (
	roleArn    = "arn:aws:iam::" + acct + ":role/ops"
	queueArn   = "arn:aws:sqs:us-east-1:" + acct + ":jobs"
	nodeRole   = "arn:aws:iam::" + acct + ":role/eks/node"
	oidcIssuer = "arn:aws:iam::" + acct + ":oidc-provider/oidc.example/id/ABC"
	rootArn    = "arn:aws:iam::" + acct + ":root"
	fedUser    = "arn:aws:sts::" + acct + ":federated-user/partner"
)

const allowEverything = `{"Version": "2012-10-17", "Statement": {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}}`

const allowIAM = `{"Version": "2012-10-17", "Statement": {"Sid": "IAM", "Effect": "Allow", "Action": "iam:*", "Resource": "*"}}`

const allowSQSIdentity = `{"Version": "2012-10-17", "Statement": {"Sid": "SQS", "Effect": "Allow", "Action": "sqs:*", "Resource": "*"}}`

const denyTerminate = `{"Version": "2012-10-17", "Statement": {"Sid": "NoTerminate", "Effect": "Deny", "Action": "ec2:TerminateInstances", "Resource": "*"}}`

// The boundary from the "Permissions boundaries for IAM entities" page.
const boundaryS3EC2 = `{"Version": "2012-10-17", "Statement": {"Sid": "Ceiling", "Effect": "Allow",
  "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}}`

const sessionReadOnly = `{"Version": "2012-10-17", "Statement": {"Sid": "Read", "Effect": "Allow",
  "Action": ["ec2:Describe*", "sqs:ReceiveMessage"], "Resource": "*"}}`

func queuePolicy(principal string) string {
	return `{"Version": "2012-10-17", "Statement": [
  {"Sid": "Send", "Effect": "Allow", "Principal": {"AWS": "` + principal + `"}, "Action": "sqs:SendMessage", "Resource": "` + queueArn + `"},
  {"Sid": "NoPurge", "Effect": "Deny", "Principal": "*", "Action": "sqs:PurgeQueue", "Resource": "` + queueArn + `"}]}`
}

const notPrincipalBobOnly = `{"Version": "2012-10-17", "Statement": [
  {"Sid": "OnlyBob", "Effect": "Deny", "NotPrincipal": {"AWS": ["` + "arn:aws:iam::" + acct + `:user/Bob"]}, "Action": "sqs:*", "Resource": "*"}]}`

const notPrincipalBobAndAccount = `{"Version": "2012-10-17", "Statement": [
  {"Sid": "OnlyBob", "Effect": "Deny", "NotPrincipal": {"AWS": ["` + "arn:aws:iam::" + acct + `:user/Bob", "` + rootArn + `"]}, "Action": "sqs:*", "Resource": "*"}]}`

const trustPodIdentity = `{"Version": "2012-10-17", "Statement": [
  {"Sid": "PodIdentity", "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
   "Action": ["sts:AssumeRole", "sts:TagSession"]}]}`

const trustOIDC = `{"Version": "2012-10-17", "Statement": [
  {"Sid": "IRSA", "Effect": "Allow", "Principal": {"Federated": "` + oidcIssuer + `"},
   "Action": "sts:AssumeRoleWithWebIdentity",
   "Condition": {"StringEquals": {
     "oidc.example/id/ABC:sub": "system:serviceaccount:kube-system:karpenter",
     "oidc.example/id/ABC:aud": "sts.amazonaws.com"}}}]}`

const trustUser = `{"Version": "2012-10-17", "Statement": {"Sid": "Carlos", "Effect": "Allow",
  "Principal": {"AWS": "` + "arn:aws:iam::" + acct + `:user/carlossalazar"}, "Action": "sts:AssumeRole"}}`

const trustAccount = `{"Version": "2012-10-17", "Statement": {"Sid": "Account", "Effect": "Allow",
  "Principal": {"AWS": "` + acct + `"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}}`

const allowAssumeNode = `{"Version": "2012-10-17", "Statement": {"Sid": "Assume", "Effect": "Allow",
  "Action": "sts:AssumeRole", "Resource": "` + nodeRole + `"}}`

type setCase struct {
	name       string
	req        Request
	set        func(t testing.TB) PolicySet
	want       Decision
	wantReason string
	wantSids   []string
}

func named(t testing.TB, name, doc string, kind Kind) NamedPolicy {
	t.Helper()
	p, err := Parse(doc, kind)
	if err != nil {
		t.Fatalf("Parse %s: %v", name, err)
	}
	return NamedPolicy{Name: name, Policy: p}
}

func ptr(n NamedPolicy) *NamedPolicy { return &n }

func ids(t testing.TB, docs ...string) []NamedPolicy {
	var out []NamedPolicy
	for i, d := range docs {
		out = append(out, named(t, "identity"+string(rune('0'+i)), d, IdentityPolicy))
	}
	return out
}

var setCases = []setCase{
	{
		name: "explicit deny overrides an allow in another policy",
		req:  Request{Principal: userCarlos, Action: "ec2:TerminateInstances", Resource: "*"},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowEverything, denyTerminate)}
		},
		want: ExplicitDeny, wantReason: "an explicit deny in an identity-based policy", wantSids: []string{"NoTerminate"},
	},
	{
		name: "no identity policy",
		req:  Request{Principal: userCarlos, Action: "ec2:RunInstances", Resource: "*"},
		set:  func(t testing.TB) PolicySet { return PolicySet{} },
		want: ImplicitDeny, wantReason: "no identity-based policy allows the ec2:RunInstances action",
	},
	{
		name: "boundary limits identity allow",
		req:  Request{Principal: userCarlos, Action: "iam:CreateUser", Resource: "*"},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowIAM), Boundary: ptr(named(t, "boundary", boundaryS3EC2, IdentityPolicy))}
		},
		want: ImplicitDeny, wantReason: "no permissions boundary allows the iam:CreateUser action",
	},
	{
		name: "boundary grants nothing by itself",
		req:  Request{Principal: userCarlos, Action: "ec2:RunInstances", Resource: "*"},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowIAM), Boundary: ptr(named(t, "boundary", boundaryS3EC2, IdentityPolicy))}
		},
		want: ImplicitDeny, wantReason: "no identity-based policy allows the ec2:RunInstances action",
	},
	{
		name: "identity and boundary both allow",
		req:  Request{Principal: userCarlos, Action: "ec2:RunInstances", Resource: "*"},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowEverything), Boundary: ptr(named(t, "boundary", boundaryS3EC2, IdentityPolicy))}
		},
		want: Allow, wantSids: []string{"All", "Ceiling"},
	},
	{
		name: "explicit deny in boundary",
		req:  Request{Principal: session, Action: "ec2:TerminateInstances", Resource: "*"},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowEverything), Boundary: ptr(named(t, "boundary", denyTerminate, IdentityPolicy))}
		},
		want: ExplicitDeny, wantReason: "an explicit deny in a permissions boundary",
	},
	{
		name: "session policy limits role session",
		req:  Request{Principal: session, Action: "ec2:RunInstances", Resource: "*"},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowEverything), Session: []NamedPolicy{named(t, "session", sessionReadOnly, IdentityPolicy)}}
		},
		want: ImplicitDeny, wantReason: "no session policy allows the ec2:RunInstances action",
	},
	{
		name: "session policy and identity both allow",
		req:  Request{Principal: session, Action: "ec2:DescribeInstances", Resource: "*"},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowEverything), Session: []NamedPolicy{named(t, "session", sessionReadOnly, IdentityPolicy)}}
		},
		want: Allow, wantSids: []string{"All", "Read"},
	},
	{
		name: "session policy grants nothing by itself",
		req:  Request{Principal: session, Action: "ec2:DescribeInstances", Resource: "*"},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowIAM), Session: []NamedPolicy{named(t, "session", sessionReadOnly, IdentityPolicy)}}
		},
		want: ImplicitDeny, wantReason: "no identity-based policy allows the ec2:DescribeInstances action",
	},
	{
		name: "federated user without session policy has no permissions",
		req:  Request{Principal: fedUser, Action: "ec2:DescribeInstances", Resource: "*"},
		set:  func(t testing.TB) PolicySet { return PolicySet{Identity: ids(t, allowEverything)} },
		want: ImplicitDeny, wantReason: "no session policy allows the ec2:DescribeInstances action",
	},
	{
		name: "resource policy alone allows a named user",
		req:  Request{Principal: userCarlos, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "queue", queuePolicy(userCarlos), ResourcePolicy))}
		},
		want: Allow, wantSids: []string{"Send"},
	},
	{
		name: "resource grant to a user is not limited by its boundary",
		req:  Request{Principal: userCarlos, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "queue", queuePolicy(userCarlos), ResourcePolicy)),
				Boundary: ptr(named(t, "boundary", boundaryS3EC2, IdentityPolicy))}
		},
		want: Allow, wantSids: []string{"Send"},
	},
	{
		name: "resource grant to another user",
		req:  Request{Principal: userCarlos, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "queue", queuePolicy(userBob), ResourcePolicy))}
		},
		want: ImplicitDeny, wantReason: "no identity-based policy allows the sqs:SendMessage action",
	},
	{
		name: "resource grant to a role reaches its sessions",
		req:  Request{Principal: session, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "queue", queuePolicy(roleArn), ResourcePolicy))}
		},
		want: Allow, wantSids: []string{"Send"},
	},
	{
		name: "resource grant to a role is limited by the boundary",
		req:  Request{Principal: session, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "queue", queuePolicy(roleArn), ResourcePolicy)),
				Boundary: ptr(named(t, "boundary", boundaryS3EC2, IdentityPolicy))}
		},
		want: ImplicitDeny, wantReason: "no permissions boundary allows the sqs:SendMessage action",
	},
	{
		name: "resource grant to a role is limited by session policies",
		req:  Request{Principal: session, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "queue", queuePolicy(roleArn), ResourcePolicy)),
				Session: []NamedPolicy{named(t, "session", sessionReadOnly, IdentityPolicy)}}
		},
		want: ImplicitDeny, wantReason: "no session policy allows the sqs:SendMessage action",
	},
	{
		name: "resource grant to the session itself ignores boundary and session policy",
		req:  Request{Principal: session, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "queue", queuePolicy(session), ResourcePolicy)),
				Boundary: ptr(named(t, "boundary", boundaryS3EC2, IdentityPolicy)),
				Session:  []NamedPolicy{named(t, "session", sessionReadOnly, IdentityPolicy)}}
		},
		want: Allow, wantSids: []string{"Send"},
	},
	{
		name: "resource grant to the account delegates to identity policies",
		req:  Request{Principal: userCarlos, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "queue", queuePolicy(acct), ResourcePolicy))}
		},
		want: ImplicitDeny, wantReason: "no identity-based policy allows the sqs:SendMessage action",
	},
	{
		name: "account grant with identity allow",
		req:  Request{Principal: userCarlos, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowSQSIdentity), Resource: ptr(named(t, "queue", queuePolicy(acct), ResourcePolicy))}
		},
		want: Allow, wantSids: []string{"SQS"},
	},
	{
		name: "explicit deny in resource policy",
		req:  Request{Principal: userCarlos, Action: "sqs:PurgeQueue", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowEverything), Resource: ptr(named(t, "queue", queuePolicy(userCarlos), ResourcePolicy))}
		},
		want: ExplicitDeny, wantReason: "an explicit deny in a resource-based policy", wantSids: []string{"NoPurge"},
	},
	{
		name: "NotPrincipal naming only the user still denies it",
		req:  Request{Principal: userBob, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowEverything), Resource: ptr(named(t, "queue", notPrincipalBobOnly, ResourcePolicy))}
		},
		want: ExplicitDeny, wantReason: "an explicit deny in a resource-based policy",
	},
	{
		name: "NotPrincipal naming user and account spares the user",
		req:  Request{Principal: userBob, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowEverything), Resource: ptr(named(t, "queue", notPrincipalBobAndAccount, ResourcePolicy))}
		},
		want: Allow,
	},
	{
		name: "NotPrincipal denies everyone else",
		req:  Request{Principal: userCarlos, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowEverything), Resource: ptr(named(t, "queue", notPrincipalBobAndAccount, ResourcePolicy))}
		},
		want: ExplicitDeny,
	},
	{
		name: "NotPrincipal deny always hits a principal with a boundary",
		req:  Request{Principal: userBob, Action: "sqs:SendMessage", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowEverything), Boundary: ptr(named(t, "boundary", allowEverything, IdentityPolicy)),
				Resource: ptr(named(t, "queue", notPrincipalBobAndAccount, ResourcePolicy))}
		},
		want: ExplicitDeny,
	},
	{
		name: "root user needs no policy",
		req:  Request{Principal: rootArn, Action: "iam:CreateUser", Resource: "*"},
		set:  func(t testing.TB) PolicySet { return PolicySet{} },
		want: Allow,
	},
	{
		name: "root user is still bound by resource-policy denies",
		req:  Request{Principal: rootArn, Action: "sqs:PurgeQueue", Resource: queueArn},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "queue", queuePolicy(userCarlos), ResourcePolicy))}
		},
		want: ExplicitDeny,
	},
	{
		name: "trust policy admits the EKS pod identity service",
		req:  Request{Principal: "pods.eks.amazonaws.com", Action: "sts:TagSession", Resource: nodeRole},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "trust", trustPodIdentity, TrustPolicy)), TrustEvaluation: true}
		},
		want: Allow, wantSids: []string{"PodIdentity"},
	},
	{
		name: "trust policy refuses another service",
		req:  Request{Principal: "ec2.amazonaws.com", Action: "sts:AssumeRole", Resource: nodeRole},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "trust", trustPodIdentity, TrustPolicy)), TrustEvaluation: true}
		},
		want: ImplicitDeny, wantReason: "no resource-based policy allows the sts:AssumeRole action",
	},
	{
		name: "OIDC trust with matching sub and aud",
		req: Request{Principal: oidcIssuer, Action: "sts:AssumeRoleWithWebIdentity", Resource: nodeRole,
			Context: ctx("oidc.example/id/ABC:sub", "system:serviceaccount:kube-system:karpenter", "oidc.example/id/ABC:aud", "sts.amazonaws.com")},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "trust", trustOIDC, TrustPolicy)), TrustEvaluation: true}
		},
		want: Allow, wantSids: []string{"IRSA"},
	},
	{
		name: "OIDC trust with another service account",
		req: Request{Principal: oidcIssuer, Action: "sts:AssumeRoleWithWebIdentity", Resource: nodeRole,
			Context: ctx("oidc.example/id/ABC:sub", "system:serviceaccount:default:app", "oidc.example/id/ABC:aud", "sts.amazonaws.com")},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "trust", trustOIDC, TrustPolicy)), TrustEvaluation: true}
		},
		want: ImplicitDeny, wantReason: "no resource-based policy allows the sts:AssumeRoleWithWebIdentity action",
	},
	{
		name: "OIDC trust without aud claim",
		req: Request{Principal: oidcIssuer, Action: "sts:AssumeRoleWithWebIdentity", Resource: nodeRole,
			Context: ctx("oidc.example/id/ABC:sub", "system:serviceaccount:kube-system:karpenter")},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "trust", trustOIDC, TrustPolicy)), TrustEvaluation: true}
		},
		want: ImplicitDeny,
	},
	{
		name: "OIDC trust from another provider",
		req: Request{Principal: "arn:aws:iam::" + acct + ":oidc-provider/other", Action: "sts:AssumeRoleWithWebIdentity", Resource: nodeRole,
			Context: ctx("oidc.example/id/ABC:sub", "system:serviceaccount:kube-system:karpenter", "oidc.example/id/ABC:aud", "sts.amazonaws.com")},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "trust", trustOIDC, TrustPolicy)), TrustEvaluation: true}
		},
		want: ImplicitDeny,
	},
	{
		name: "trust naming the user needs no identity policy",
		req:  Request{Principal: userCarlos, Action: "sts:AssumeRole", Resource: nodeRole},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "trust", trustUser, TrustPolicy)), TrustEvaluation: true}
		},
		want: Allow, wantSids: []string{"Carlos"},
	},
	{
		name: "trust naming the account needs an identity allow",
		req:  Request{Principal: userCarlos, Action: "sts:AssumeRole", Resource: nodeRole},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "trust", trustAccount, TrustPolicy)), TrustEvaluation: true}
		},
		want: ImplicitDeny, wantReason: "no identity-based policy allows the sts:AssumeRole action",
	},
	{
		name: "trust naming the account with an identity allow",
		req:  Request{Principal: userCarlos, Action: "sts:AssumeRole", Resource: nodeRole},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowAssumeNode), Resource: ptr(named(t, "trust", trustAccount, TrustPolicy)), TrustEvaluation: true}
		},
		want: Allow, wantSids: []string{"Account", "Assume"},
	},
	{
		name: "identity allow alone cannot assume a role",
		req:  Request{Principal: userCarlos, Action: "sts:AssumeRole", Resource: nodeRole},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Identity: ids(t, allowAssumeNode), Resource: ptr(named(t, "trust", trustPodIdentity, TrustPolicy)), TrustEvaluation: true}
		},
		want: ImplicitDeny, wantReason: "no resource-based policy allows the sts:AssumeRole action",
	},
	{
		name: "root user may not assume roles",
		req:  Request{Principal: rootArn, Action: "sts:AssumeRole", Resource: nodeRole},
		set: func(t testing.TB) PolicySet {
			return PolicySet{Resource: ptr(named(t, "trust", trustAccount, TrustPolicy)), TrustEvaluation: true}
		},
		want: ImplicitDeny, wantReason: "roles may not be assumed by root accounts",
	},
}

func TestEvaluate(t *testing.T) {
	for _, tc := range setCases {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(tc.req, tc.set(t))
			if got.Decision != tc.want {
				t.Fatalf("Decision = %v (%+v), want %v", got.Decision, got, tc.want)
			}
			if tc.wantReason != "" && got.Reason != tc.wantReason {
				t.Errorf("Reason = %q, want %q", got.Reason, tc.wantReason)
			}
			if tc.wantSids != nil {
				var sids []string
				for _, m := range got.Deciding {
					sids = append(sids, m.Sid)
				}
				if len(sids) != len(tc.wantSids) {
					t.Fatalf("deciding Sids = %v, want %v", sids, tc.wantSids)
				}
				for i := range sids {
					if sids[i] != tc.wantSids[i] {
						t.Fatalf("deciding Sids = %v, want %v", sids, tc.wantSids)
					}
				}
			}
		})
	}
}

func TestAccessDeniedMessage(t *testing.T) {
	r := Request{Principal: userCarlos, Action: "sqs:PurgeQueue", Resource: queueArn}
	cases := []struct {
		res  Result
		want string
	}{
		{Result{Decision: ExplicitDeny, Reason: "an explicit deny in a resource-based policy"},
			"User: " + userCarlos + " is not authorized to perform: sqs:PurgeQueue on resource: " + queueArn + " with an explicit deny in a resource-based policy"},
		{Result{Decision: ImplicitDeny, Reason: "no identity-based policy allows the sqs:PurgeQueue action"},
			"User: " + userCarlos + " is not authorized to perform: sqs:PurgeQueue on resource: " + queueArn + " because no identity-based policy allows the sqs:PurgeQueue action"},
	}
	for _, tc := range cases {
		if got := tc.res.AccessDeniedMessage(r); got != tc.want {
			t.Errorf("AccessDeniedMessage =\n %q\nwant\n %q", got, tc.want)
		}
	}
	r.Resource = "*"
	if got, want := (Result{Decision: ImplicitDeny, Reason: "x"}).AccessDeniedMessage(r), "User: "+userCarlos+" is not authorized to perform: sqs:PurgeQueue because x"; got != want {
		t.Errorf("without resource: %q, want %q", got, want)
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true},
		{"a*b?d", "axxbcd", true},
		{"a*b?d", "abd", false},
		{"*log*", "carlossalazar-logs", true},
		{"**a", "bbba", true},
		{"a", "A", false},
		{"?", "é", true},
		{"", "x", false},
	}
	for _, tc := range cases {
		if got := glob(rawPattern(tc.pat), tc.s); got != tc.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}
