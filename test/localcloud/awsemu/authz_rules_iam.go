package awsemu

import (
	"maps"
	"strings"

	"github.com/nodewright/nodewright/test/localcloud/iameval"
)

// IAM's and STS's authorization rules: roles, users, policies, instance
// profiles and OIDC providers, and the trust a role's assumption needs.

// --- IAM ---

func iamRules() {
	role := func(action string, tagsParam bool) authzRule {
		return func(s *Server, c *Call) []authzCheck {
			name := c.Form.Get("RoleName")
			var r authzResource
			if ro := s.world.IAM.Roles[strings.ToLower(name)]; ro != nil {
				r = authzResource{arn: ro.ARN, keys: iamResourceTagKeys(ro.Tags)}
			} else {
				path, _ := defaultPath(c.Form.Get("Path"))
				r = authzResource{arn: "arn:aws:iam::" + AccountID + ":role" + path + name, keys: map[string][]string{}}
			}
			if tagsParam {
				maps.Copy(r.keys, requestTagKeys(formTags(c.Form, "Tags.member")))
			}
			if p := c.Form.Get("PolicyArn"); p != "" {
				r.keys["iam:PolicyARN"] = []string{p}
			}
			if b := c.Form.Get("PermissionsBoundary"); b != "" {
				r.keys["iam:PermissionsBoundary"] = []string{b}
			}
			return check(action, r)
		}
	}
	for _, a := range []string{"CreateRole", "TagRole"} {
		authzRules["iam:"+a] = role("iam:"+a, true)
	}
	for _, a := range []string{"GetRole", "UpdateAssumeRolePolicy", "UpdateRole", "UntagRole", "ListRoleTags", "DeleteRole",
		"PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies",
		"PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy", "ListRolePolicies", "ListInstanceProfilesForRole"} {
		authzRules["iam:"+a] = role("iam:"+a, false)
	}

	user := func(action string, tagsParam bool) authzRule {
		return func(s *Server, c *Call) []authzCheck {
			name := c.Form.Get("UserName")
			if name == "" && c.Caller.User != nil {
				name = c.Caller.User.Name
			}
			r := authzResource{arn: "arn:aws:iam::" + AccountID + ":user/" + name, keys: map[string][]string{}}
			if u := s.world.IAM.Users[strings.ToLower(name)]; u != nil {
				r = authzResource{arn: u.ARN, keys: iamResourceTagKeys(u.Tags)}
			}
			if tagsParam {
				maps.Copy(r.keys, requestTagKeys(formTags(c.Form, "Tags.member")))
			}
			if p := c.Form.Get("PolicyArn"); p != "" {
				r.keys["iam:PolicyARN"] = []string{p}
			}
			return check(action, r)
		}
	}
	authzRules["iam:CreateUser"] = user("iam:CreateUser", true)
	for _, a := range []string{"GetUser", "DeleteUser", "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey",
		"AttachUserPolicy", "DetachUserPolicy", "ListAttachedUserPolicies", "PutUserPolicy", "GetUserPolicy", "DeleteUserPolicy", "ListUserPolicies"} {
		authzRules["iam:"+a] = user("iam:"+a, false)
	}

	policy := func(action string) authzRule {
		return func(s *Server, c *Call) []authzCheck {
			arn := c.Form.Get("PolicyArn")
			if arn == "" {
				path, _ := defaultPath(c.Form.Get("Path"))
				arn = "arn:aws:iam::" + AccountID + ":policy" + path + c.Form.Get("PolicyName")
			}
			r := authzResource{arn: arn, keys: requestTagKeys(formTags(c.Form, "Tags.member"))}
			if p, _, err := s.world.IAM.policy(arn); err == nil {
				maps.Copy(r.keys, iamResourceTagKeys(p.Tags))
			}
			return check(action, r)
		}
	}
	for _, a := range []string{"CreatePolicy", "GetPolicy", "CreatePolicyVersion", "GetPolicyVersion", "ListPolicyVersions",
		"DeletePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicy", "TagPolicy"} {
		authzRules["iam:"+a] = policy("iam:" + a)
	}

	profile := func(action string) authzRule {
		return func(s *Server, c *Call) []authzCheck {
			name := c.Form.Get("InstanceProfileName")
			path, _ := defaultPath(c.Form.Get("Path"))
			r := authzResource{arn: "arn:aws:iam::" + AccountID + ":instance-profile" + path + name, keys: requestTagKeys(formTags(c.Form, "Tags.member"))}
			if p := s.world.IAM.InstanceProfiles[strings.ToLower(name)]; p != nil {
				r.arn = p.ARN
				maps.Copy(r.keys, iamResourceTagKeys(p.Tags))
			}
			out := check(action, r)
			// Putting a role in a profile passes it to EC2.
			if action == "iam:AddRoleToInstanceProfile" {
				out = append(out, authzCheck{action: "iam:PassRole", resources: []authzResource{s.passRole(c.Form.Get("RoleName"), "ec2.amazonaws.com")}})
			}
			return out
		}
	}
	for _, a := range []string{"CreateInstanceProfile", "GetInstanceProfile", "DeleteInstanceProfile", "AddRoleToInstanceProfile",
		"RemoveRoleFromInstanceProfile", "TagInstanceProfile", "UntagInstanceProfile", "ListInstanceProfileTags"} {
		authzRules["iam:"+a] = profile("iam:" + a)
	}

	oidc := func(action string) authzRule {
		return func(s *Server, c *Call) []authzCheck {
			arn := c.Form.Get("OpenIDConnectProviderArn")
			if arn == "" {
				u := strings.TrimPrefix(c.Form.Get("Url"), "https://")
				arn = "arn:aws:iam::" + AccountID + ":oidc-provider/" + u
			}
			r := authzResource{arn: arn, keys: requestTagKeys(formTags(c.Form, "Tags.member"))}
			if p := s.world.IAM.OIDCProviders[arn]; p != nil {
				maps.Copy(r.keys, iamResourceTagKeys(p.Tags))
			}
			return check(action, r)
		}
	}
	for _, a := range []string{"CreateOpenIDConnectProvider", "GetOpenIDConnectProvider", "DeleteOpenIDConnectProvider",
		"TagOpenIDConnectProvider", "UntagOpenIDConnectProvider", "ListOpenIDConnectProviderTags"} {
		authzRules["iam:"+a] = oidc("iam:" + a)
	}
	for _, a := range []string{"ListRoles", "ListPolicies", "ListUsers", "ListInstanceProfiles", "ListOpenIDConnectProviders"} {
		authzRules["iam:"+a] = anyResource("iam:" + a)
	}
	// IAM authorizes tags given at creation as a separate tagging action
	// ("Permissions required for tagging IAM resources").
	for create, tag := range map[string]string{"CreateRole": "TagRole", "CreateUser": "TagUser", "CreatePolicy": "TagPolicy",
		"CreateInstanceProfile": "TagInstanceProfile", "CreateOpenIDConnectProvider": "TagOpenIDConnectProvider"} {
		rule := authzRules["iam:"+create]
		authzRules["iam:"+create] = func(s *Server, c *Call) []authzCheck {
			out := rule(s, c)
			if r := out[0].resources[0]; len(r.keys["aws:TagKeys"]) > 0 {
				out = append(out, authzCheck{action: "iam:" + tag, resources: []authzResource{r}})
			}
			return out
		}
	}
}

func iamResourceTagKeys(tags []IAMTag) map[string][]string {
	keys := map[string][]string{}
	for _, t := range tags {
		keys["aws:ResourceTag/"+t.Key] = []string{t.Value}
		keys["iam:ResourceTag/"+t.Key] = []string{t.Value}
	}
	return keys
}

// roleTrust is a role as sts:AssumeRole sees it: its trust policy decides,
// with the caller's identity policies where it names only the account.
func (s *Server) roleTrust(arn string) authzResource {
	r := authzResource{arn: arn, policyKind: iameval.TrustPolicy}
	if role := s.world.IAM.RoleByARN(arn); role != nil {
		r.keys = iamResourceTagKeys(role.Tags)
		r.policy = role.AssumeRolePolicyDocument
		if r.policy == "" {
			r.policy = `{"Version":"2012-10-17","Statement":[]}`
		}
	}
	return r
}
