package awsemu

import (
	"math/rand/v2"
	"strings"
)

// Faults are the injected failures. They live beside the world, under the
// server's lock, and are not persisted: a restart clears them.
type Faults struct {
	// APIErrors maps "service:Action" (or "service:*") to an error to return
	// at the given rate.
	APIErrors map[string]APIFault `json:"apiErrors"`
	// ICE marks (type, zone, capacity type) pools out of capacity, keyed
	// "m5.large/us-east-1a/spot".
	ICE map[string]bool `json:"ice"`
	// NeverJoin makes the next N launched instances boot without ever joining.
	NeverJoin int `json:"neverJoin"`
}

// APIFault is an error returned at Rate (0..1] of calls.
type APIFault struct {
	Rate float64 `json:"rate"`
	// Code defaults to the service's throttling code.
	Code    string `json:"code"`
	Message string `json:"message"`
}

func newFaults() *Faults {
	return &Faults{APIErrors: map[string]APIFault{}, ICE: map[string]bool{}}
}

// PoolKey names a capacity pool.
func PoolKey(instanceType, zone, capacityType string) string {
	return instanceType + "/" + zone + "/" + capacityType
}

func (f *Faults) apiFault(service, action string) *Error {
	fault, ok := f.APIErrors[service+":"+action]
	if !ok {
		fault, ok = f.APIErrors[service+":*"]
	}
	if !ok || rand.Float64() >= fault.Rate {
		return nil
	}
	code := fault.Code
	if code == "" {
		code = throttlingCode(service)
	}
	msg := fault.Message
	if msg == "" {
		msg = "Rate exceeded (injected by localcloud)"
	}
	status := 400
	if strings.Contains(code, "Throttl") || code == "RequestLimitExceeded" {
		status = 400
		if service == "eks" || service == "sqs" || service == "events" || service == "ssm" {
			status = 429
		}
	}
	if code == "InternalError" || code == "ServiceUnavailable" || code == "InternalFailure" {
		return &Error{Code: code, Message: msg, Status: 500, Server: true}
	}
	return &Error{Code: code, Message: msg, Status: status}
}

// throttlingCode is what each service returns when it throttles.
func throttlingCode(service string) string {
	switch service {
	case "ec2":
		return "RequestLimitExceeded"
	case "iam", "sts":
		return "Throttling"
	default:
		return "ThrottlingException"
	}
}
