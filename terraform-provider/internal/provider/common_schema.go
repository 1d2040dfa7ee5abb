package provider

import (
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Service accounts in Kubernetes are DNS labels / subdomains.
const k8sNameRule = `^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`

// Patterns several resources' schemas share, so that one rule (and one
// error message) holds wherever the same kind of value is taken.
var (
	kubeNameRE       = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	k8sNameRE        = regexp.MustCompile(k8sNameRule)
	dnsLabelRE       = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	durationRE       = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`)
	oidcProviderRE   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/.+$`)
	roleARNRE        = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/(.+/)?[\w+=,.@-]{1,64}$`)
	regionRE         = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	eksClusterNameRE = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$`)
	iamNameRE        = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	iamPathRE        = regexp.MustCompile(`^/([\x21-\x7E]{0,510}/)?$`)
)

func iamNameValidator() validator.String {
	return stringvalidator.RegexMatches(iamNameRE, "must be 1-64 characters of letters, digits and +=,.@_- (the IAM name rule)")
}

func kubeOneOfDoc(vals []string) string { return "`" + strings.Join(vals, "`, `") + "`" }

func isKnownStr(s types.String) bool { return !s.IsNull() && !s.IsUnknown() }
