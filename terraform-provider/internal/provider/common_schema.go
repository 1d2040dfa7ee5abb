package provider

import (
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
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
	kubeDurationRE   = regexp.MustCompile(`^([0-9]+(s|m|h))+$`)
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

func eksClusterNameValidator() validator.String {
	return stringvalidator.RegexMatches(eksClusterNameRE, "must be 1-100 letters, digits, - and _, starting with a letter or digit (the EKS cluster name rule)")
}

func k8sNameValidator() validator.String {
	return stringvalidator.RegexMatches(k8sNameRE, "must be a Kubernetes name (lower-case letters, digits, - and .)")
}

func roleARNValidator() validator.String {
	return stringvalidator.RegexMatches(roleARNRE, "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
}

// Attributes of the same kind in several resources, built once so that
// they take the same values the same way everywhere.

// computedStableString is a computed attribute that never changes once
// known (an id, an ARN), so plans show the state's value, not "known after
// apply".
func computedStableString(desc string) schema.StringAttribute {
	return schema.StringAttribute{
		Computed:            true,
		MarkdownDescription: desc,
		PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
}

// optionalStringMap is an optional map of strings (tags, labels).
func optionalStringMap(desc string) schema.MapAttribute {
	return schema.MapAttribute{
		Optional:            true,
		ElementType:         types.StringType,
		MarkdownDescription: desc,
	}
}

// iamNameAttribute is the name of an IAM entity; IAM can't rename one.
func iamNameAttribute(desc string) schema.StringAttribute {
	return schema.StringAttribute{
		Required:            true,
		MarkdownDescription: desc,
		Validators:          []validator.String{iamNameValidator()},
		PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
	}
}

// iamPathAttribute is the path of an IAM entity; IAM can't move one.
func iamPathAttribute(desc string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		Computed:            true,
		Default:             stringdefault.StaticString("/"),
		MarkdownDescription: desc,
		Validators:          []validator.String{stringvalidator.RegexMatches(iamPathRE, "must begin and end with / (the IAM path rule)")},
		PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
	}
}

// kubeNameAttribute is the name of a cluster-scoped object; Kubernetes
// can't rename one.
func kubeNameAttribute(desc string) schema.StringAttribute {
	return schema.StringAttribute{
		Required:            true,
		MarkdownDescription: desc,
		PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
		Validators: []validator.String{
			stringvalidator.LengthBetween(1, 63),
			stringvalidator.RegexMatches(kubeNameRE, "must be a DNS label: lower-case letters, digits and '-'"),
		},
	}
}
