package iameval

import (
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts can
// be evaluated, alone and as each layer of a PolicySet, without panicking.
func FuzzParse(f *testing.F) {
	for _, tc := range singleCases {
		f.Add(tc.doc, uint8(tc.kind))
	}
	for _, d := range []string{allowEverything, allowIAM, denyTerminate, boundaryS3EC2, sessionReadOnly,
		queuePolicy(userCarlos), notPrincipalBobOnly, notPrincipalBobAndAccount, allowAssumeNode} {
		f.Add(d, uint8(IdentityPolicy))
		f.Add(d, uint8(ResourcePolicy))
	}
	for _, d := range []string{trustPodIdentity, trustOIDC, trustUser, trustAccount} {
		f.Add(d, uint8(TrustPolicy))
	}
	requests := []Request{
		{Principal: userCarlos, Action: "s3:GetObject", Resource: "arn:aws:s3:::home/carlos/x",
			Context: ctx("aws:username", "carlos", "aws:TagKeys", "a", "aws:TagKeys", "b", "aws:CurrentTime", "2024-01-01T00:00:00Z",
				"aws:SourceIp", "10.0.0.1", "s3:max-keys", "5")},
		{Principal: session, Action: "sts:AssumeRole", Resource: "*", Context: ctx("aws:PrincipalTag/team", "${*}")},
		{Principal: "pods.eks.amazonaws.com", Action: "sts:TagSession", Resource: nodeRole},
		{Principal: rootArn, Action: "iam:CreateUser", Resource: ":::::"},
		{},
	}
	f.Fuzz(func(t *testing.T, doc string, kind uint8) {
		p, err := Parse(doc, Kind(kind%3))
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("Parse returned %T, want *ParseError", err)
			}
			return
		}
		np := NamedPolicy{Name: "fuzz", Policy: p}
		for _, r := range requests {
			p.Evaluate(r)
			Evaluate(r, PolicySet{Identity: []NamedPolicy{np}, Boundary: &np, Session: []NamedPolicy{np}, Resource: &np})
			Evaluate(r, PolicySet{Resource: &np, TrustEvaluation: true})
		}
	})
}
