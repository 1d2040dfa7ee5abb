// Package awsmetrics counts every AWS API call the controller makes, by
// service, operation and outcome, and times them: what a user alerts on
// when EC2 throttles or an IAM policy refuses. It hooks into the SDK's
// middleware stack; it makes no calls of its own.
package awsmetrics

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// OK is the code of a call that succeeded; Unknown of one whose error
// carries no AWS error code (a network failure, a cancelled context).
const (
	OK      = "OK"
	Unknown = "Unknown"
)

var (
	calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nodewright_cloudprovider_api_calls_total",
		Help: "AWS API calls, after the SDK's retries, by service, operation and code (OK, the AWS error code, or Unknown).",
	}, []string{"service", "operation", "code"})
	duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "nodewright_cloudprovider_api_duration_seconds",
		Help:    "Duration of AWS API calls, retries included, by service and operation.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
	}, []string{"service", "operation"})
)

func init() {
	metrics.Registry.MustRegister(calls, duration)
}

// Instrument makes every client built from cfg count and time its calls.
func Instrument(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		// After the service metadata (added Before in Initialize), so the
		// names are known; outside the retry loop, so a call counts once.
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("nodewright.awsmetrics",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				began := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
				duration.WithLabelValues(service, op).Observe(time.Since(began).Seconds())
				calls.WithLabelValues(service, op, Code(err)).Inc()
				return out, md, err
			}), middleware.After)
	})
}

// Code is the AWS error code of err, OK for nil, Unknown for an error with
// none.
func Code(err error) string {
	if err == nil {
		return OK
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() != "" {
		return apiErr.ErrorCode()
	}
	return Unknown
}
