package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// awsDetail explains a failed AWS call: which call, on what, the service's
// own message, and what to do about the common causes.
func awsDetail(call, object string, err error) string {
	msg := fmt.Sprintf("%s on %s failed: %s.", call, object, strings.TrimSuffix(err.Error(), "."))
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
			msg += fmt.Sprintf(" Grant %s to the credentials Terraform uses.", call)
		case "EntityAlreadyExists", "QueueAlreadyExists", "ResourceAlreadyExistsException":
			msg += " It already exists: import it (terraform import) or choose another name."
		case "NoSuchEntity", "ResourceNotFoundException", "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist":
			msg += " It does not exist: check the name or ARN, or remove the resource from state if it was deleted outside Terraform."
		case "LimitExceeded", "Throttling", "ThrottlingException":
			msg += " Retry later or ask AWS for a higher quota."
		default:
			msg += " Check the inputs and retry."
		}
	}
	return msg
}

func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if err == nil || !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}

func optString(v types.String) *string {
	if v.IsNull() || v.IsUnknown() || v.ValueString() == "" {
		return nil
	}
	return aws.String(v.ValueString())
}

func mapValue(ctx context.Context, m types.Map) (map[string]string, diag.Diagnostics) {
	out := map[string]string{}
	if m.IsNull() || m.IsUnknown() {
		return out, nil
	}
	diags := m.ElementsAs(ctx, &out, false)
	return out, diags
}

// tagsValue keeps a null configured map null when there are no tags, so an
// unset attribute does not diff against an empty map.
func tagsValue(tags map[string]string, prior types.Map) types.Map {
	if len(tags) == 0 && prior.IsNull() {
		return types.MapNull(types.StringType)
	}
	el := map[string]attr.Value{}
	for k, v := range tags {
		el[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, el)
}

func stringSet(s []string) types.Set {
	el := make([]attr.Value, 0, len(s))
	for _, v := range s {
		el = append(el, types.StringValue(v))
	}
	return types.SetValueMust(types.StringType, el)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// diffSets returns what is in want but not have, and the reverse.
func diffSets(want, have []string) (add, remove []string) {
	w, h := map[string]bool{}, map[string]bool{}
	for _, s := range want {
		w[s] = true
	}
	for _, s := range have {
		h[s] = true
	}
	for _, s := range want {
		if !h[s] {
			add = append(add, s)
		}
	}
	for _, s := range have {
		if !w[s] {
			remove = append(remove, s)
		}
	}
	return add, remove
}

// partitionOf maps a region to its ARN partition.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	}
	return "aws"
}

// accountID returns the caller's account, from a known ARN when there is one.
func accountID(ctx context.Context, cfg aws.Config, knownARN string) (string, error) {
	if parts := strings.Split(knownARN, ":"); len(parts) > 4 && parts[4] != "" {
		return parts[4], nil
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Account), nil
}

func uniqSorted(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// removedKeys returns the keys of have that want lacks, sorted: the tags
// to remove.
func removedKeys(want, have map[string]string) []string {
	var gone []string
	for k := range have {
		if _, ok := want[k]; !ok {
			gone = append(gone, k)
		}
	}
	sort.Strings(gone)
	return gone
}
