// Package awsapi holds what every AWS provider writes the same way: EC2
// filters and tags, the cluster's ownership tag, and reading an API error's
// code. It does no I/O.
package awsapi

import (
	"errors"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// ClusterTag is the tag key every resource of the cluster carries.
func ClusterTag(clusterName string) string { return "kubernetes.io/cluster/" + clusterName }

// ErrorCode is the AWS error code of err, "" when err is not an API error.
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Filter is one EC2 Describe filter.
func Filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

// TagFilters select resources by tag, key order fixed so that requests
// are the same from one call to the next; a value of "*" matches any value.
func TagFilters(tags map[string]string) []ec2types.Filter {
	var out []ec2types.Filter
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if v := tags[k]; v == "*" {
			out = append(out, ec2types.Filter{Name: aws.String("tag-key"), Values: []string{k}})
		} else {
			out = append(out, ec2types.Filter{Name: aws.String("tag:" + k), Values: []string{v}})
		}
	}
	return out
}

// Tags are m as EC2 tags, sorted by key so that equal maps make equal
// requests (launch template names hash them).
func Tags(m map[string]string) []ec2types.Tag {
	out := make([]ec2types.Tag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}
