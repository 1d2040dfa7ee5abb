package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func iamTags(m map[string]string) []iamtypes.Tag {
	var out []iamtypes.Tag
	for _, k := range sortedKeys(m) {
		out = append(out, iamtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

// updateTags applies the difference between two tag maps.
func updateTags(ctx context.Context, plan, state types.Map, tag func(map[string]string) error, untag func([]string) error, object string) diag.Diagnostics {
	var diags diag.Diagnostics
	want, d := mapValue(ctx, plan)
	diags.Append(d...)
	have, d := mapValue(ctx, state)
	diags.Append(d...)
	if diags.HasError() {
		return diags
	}
	gone := removedKeys(want, have)
	if len(gone) > 0 {
		if err := untag(gone); err != nil {
			diags.AddError("Removing tags", awsDetail("untag", object, err))
			return diags
		}
	}
	changed := map[string]string{}
	for k, v := range want {
		if have[k] != v {
			changed[k] = v
		}
	}
	if len(changed) > 0 {
		if err := tag(changed); err != nil {
			diags.AddError("Setting tags", awsDetail("tag", object, err))
		}
	}
	return diags
}

// urlDecodeDocument undoes the URL-encoding IAM applies to policy documents.
func urlDecodeDocument(doc string) string {
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc
	}
	if d, err := url.QueryUnescape(doc); err == nil {
		return d
	}
	return doc
}

// stringList is an IAM policy value that is a string or a list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("expected a string or a list of strings: %w", err)
	}
	*l = many
	return nil
}

type policyDoc struct {
	Statement []struct {
		Sid       string
		Principal map[string]stringList
		Resource  stringList
		Condition map[string]map[string]stringList
	}
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}
