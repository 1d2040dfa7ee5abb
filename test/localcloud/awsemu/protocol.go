package awsemu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Error is an AWS-shaped API error. Every protocol writer renders it the way
// the real service does, so SDK clients surface Code as smithy.APIError.ErrorCode().
type Error struct {
	Code    string
	Message string
	Status  int
	// Sender is true for client faults (the default), false for server faults.
	Server bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds a client-side (4xx) API error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// Common errors shared by every service.
func errMissingParameter(name string) *Error {
	return Errorf(400, "MissingParameter", "The request must contain the parameter %s", name)
}

func errInvalidParameterValue(format string, args ...any) *Error {
	return Errorf(400, "InvalidParameterValue", format, args...)
}

func errValidation(format string, args ...any) *Error {
	return Errorf(400, "ValidationException", format, args...)
}

func errInvalidAction(action, service string) *Error {
	return Errorf(400, "InvalidAction", "The action %s is not valid for this web service (%s).", action, service)
}

// protocol identifies the wire format of a service.
type protocol int

const (
	protoEC2Query protocol = iota // EC2: form in, XML out, errors in <Response><Errors>
	protoQuery                    // IAM, STS, and SQS for older clients: form in, XML out with <XResult>, <ErrorResponse>
	protoJSON10                   // SQS
	protoJSON11                   // EventBridge, SSM, Pricing
	protoRESTJSON                 // EKS
)

// named renders v as an element with a computed name.
type named struct {
	name  string
	value any
}

func (n named) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	return e.EncodeElement(n.value, xml.StartElement{Name: xml.Name{Local: n.name}})
}

// queryNamespaces are the XML namespaces of the query services' responses.
var queryNamespaces = map[string]string{
	"iam": "https://iam.amazonaws.com/doc/2010-05-08/",
	"sts": "https://sts.amazonaws.com/doc/2011-06-15/",
	"sqs": "http://queue.amazonaws.com/doc/2012-11-05/",
}

// emptyResults are the query operations whose output shape has no members
// (botocore's iam, sts and query-protocol sqs service-2.json; checked by
// TestEmptyResultsMatchBotocore). AWS still writes their empty <XResult/>
// and botocore looks it up (KeyError 'UpdateRoleResult' without it). An
// operation with no output shape at all (DeleteRole, DeleteQueue) writes no
// result element, which is what a handler returning nil gets otherwise.
var emptyResults = map[string]bool{
	"iam:UpdateRole": true,
}

func writeResult(w http.ResponseWriter, proto protocol, service, action, requestID string, out any) {
	w.Header().Set("x-amzn-RequestId", requestID)
	var body []byte
	var err error
	switch proto {
	case protoEC2Query:
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		env := struct {
			XMLName   xml.Name
			Xmlns     string `xml:"xmlns,attr"`
			RequestID string `xml:"requestId"`
			Body      any
		}{XMLName: xml.Name{Local: action + "Response"}, Xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/", RequestID: requestID, Body: inline{out}}
		body, err = xml.Marshal(env)
	case protoQuery:
		w.Header().Set("Content-Type", "text/xml")
		if out == nil && emptyResults[service+":"+action] {
			out = struct{}{}
		}
		env := struct {
			XMLName xml.Name
			Xmlns   string `xml:"xmlns,attr"`
			Result  any
			Meta    struct {
				RequestID string `xml:"RequestId"`
			} `xml:"ResponseMetadata"`
		}{XMLName: xml.Name{Local: action + "Response"}, Xmlns: queryNamespaces[service]}
		if out != nil {
			env.Result = named{action + "Result", out}
		}
		env.Meta.RequestID = requestID
		body, err = xml.Marshal(env)
	case protoJSON10, protoJSON11:
		w.Header().Set("Content-Type", map[protocol]string{protoJSON10: "application/x-amz-json-1.0", protoJSON11: "application/x-amz-json-1.1"}[proto])
		if out == nil {
			out = struct{}{}
		}
		body, err = json.Marshal(out)
	case protoRESTJSON:
		w.Header().Set("Content-Type", "application/json")
		if out == nil {
			out = struct{}{}
		}
		body, err = json.Marshal(out)
	}
	if err != nil {
		writeError(w, proto, service, requestID, &Error{Code: "InternalFailure", Message: "encoding response: " + err.Error(), Status: 500, Server: true})
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// encodeFlatMap writes a map the way the query protocol writes a flattened
// one: an element named for the field per entry, holding the key and the
// value (<Attribute><Name>k</Name><Value>v</Value></Attribute>), in key order.
func encodeFlatMap[V any](e *xml.Encoder, start xml.StartElement, keyName, valueName string, m map[string]V) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	entry := xml.StartElement{Name: start.Name}
	for _, k := range keys {
		if err := e.EncodeToken(entry); err != nil {
			return err
		}
		if err := e.EncodeElement(k, xml.StartElement{Name: xml.Name{Local: keyName}}); err != nil {
			return err
		}
		if err := e.EncodeElement(m[k], xml.StartElement{Name: xml.Name{Local: valueName}}); err != nil {
			return err
		}
		if err := e.EncodeToken(entry.End()); err != nil {
			return err
		}
	}
	return nil
}

// inline marshals a struct's fields without a wrapping element, so results
// sit directly under the EC2 <ActionResponse> root.
type inline struct{ v any }

func (i inline) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	if i.v == nil {
		return nil
	}
	rv := reflect.Indirect(reflect.ValueOf(i.v))
	rt := rv.Type()
	for n := 0; n < rt.NumField(); n++ {
		f := rt.Field(n)
		if !f.IsExported() {
			continue
		}
		name, omitEmpty := xmlFieldName(f)
		if name == "-" || (omitEmpty && rv.Field(n).IsZero()) {
			continue
		}
		if err := e.EncodeElement(rv.Field(n).Interface(), xml.StartElement{Name: xml.Name{Local: name}}); err != nil {
			return err
		}
	}
	return nil
}

func xmlFieldName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("xml")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, strings.Contains(opts, "omitempty")
}

// queryCompatible are the JSON services that also serve the AWS query
// protocol (botocore's "awsQueryCompatible"): SQS, whose clients released
// before 2024 (aws-cli 2.9 among them) send form-encoded Action requests.
// Their handlers serve both; only the decoding and encoding differ.
var queryCompatible = map[string]bool{"sqs": true}

// queryErrorCode is the code an error has in the query protocol. SQS is
// awsQueryCompatible: its JSON error shapes (QueueDoesNotExist) keep the
// query codes they had before (AWS.SimpleQueueService.NonExistentQueue),
// which its query protocol answers with and its JSON protocol sends in
// x-amzn-query-error.
func queryErrorCode(service, code string) string {
	if queryCompatible[service] {
		return sqsQueryErrorCode(code)
	}
	return code
}

func writeError(w http.ResponseWriter, proto protocol, service, requestID string, e *Error) {
	status := e.Status
	if status == 0 {
		status = 400
	}
	fault := "Sender"
	if e.Server {
		fault = "Receiver"
	}
	w.Header().Set("x-amzn-RequestId", requestID)
	var body []byte
	switch proto {
	case protoEC2Query:
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
		body = []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`,
			xmlEscape(e.Code), xmlEscape(e.Message), requestID))
	case protoQuery:
		w.Header().Set("Content-Type", "text/xml")
		body = []byte(fmt.Sprintf(`<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			fault, xmlEscape(queryErrorCode(service, e.Code)), xmlEscape(e.Message), requestID))
	case protoJSON10, protoJSON11:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if proto == protoJSON10 {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		}
		if queryCompatible[service] {
			w.Header().Set("x-amzn-query-error", queryErrorCode(service, e.Code)+";"+fault)
		}
		body, _ = json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	case protoRESTJSON:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", e.Code)
		body, _ = json.Marshal(map[string]string{"message": e.Message})
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// decodeQuery fills the struct v points to from AWS query form values. Keys
// are dotted paths ("Filter.1.Value.2", "Tags.member.1.Key"); fields match
// case-insensitively by name or by their `query` tag. Lists accept both EC2's
// flattened "Name.N" and the query protocol's "Name.member.N".
func decodeQuery(form url.Values, v any) *Error {
	root := &qnode{children: map[string]*qnode{}}
	for key, vals := range form {
		if key == "Action" || key == "Version" || len(vals) == 0 {
			continue
		}
		n := root
		for _, part := range strings.Split(key, ".") {
			part = strings.ToLower(part)
			child, ok := n.children[part]
			if !ok {
				child = &qnode{children: map[string]*qnode{}}
				n.children[part] = child
			}
			n = child
		}
		n.value, n.set = vals[0], true
	}
	return root.decode(reflect.ValueOf(v).Elem(), "")
}

type qnode struct {
	value    string
	set      bool
	children map[string]*qnode
}

func (n *qnode) decode(v reflect.Value, path string) *Error {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			t, err := time.Parse(time.RFC3339, n.value)
			if err != nil {
				return errInvalidParameterValue("Value (%s) for parameter %s is not a valid ISO 8601 time.", n.value, path)
			}
			v.Set(reflect.ValueOf(t))
			return nil
		}
		return n.decodeStruct(v, path)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return n.decode(v.Elem(), path)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			// Blobs travel base64-encoded.
			b, err := base64.StdEncoding.DecodeString(n.value)
			if err != nil {
				return errInvalidParameterValue("Value for parameter %s is invalid. Expected base64-encoded binary data.", path)
			}
			v.SetBytes(b)
			return nil
		}
		items := n.children
		if m, ok := n.children["member"]; ok {
			items = m.children
		}
		idx := make([]int, 0, len(items))
		for k := range items {
			i, err := strconv.Atoi(k)
			// Non-canonical indices ("01", "+1") would alias another item
			// and leave their own node unreachable by index.
			if err != nil || i < 1 || strconv.Itoa(i) != k {
				return errInvalidParameterValue("%s.%s is not a valid list index", path, k)
			}
			idx = append(idx, i)
		}
		sort.Ints(idx)
		s := reflect.MakeSlice(v.Type(), len(idx), len(idx))
		for j, i := range idx {
			if err := items[strconv.Itoa(i)].decode(s.Index(j), fmt.Sprintf("%s.%d", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Map:
		// Query maps: Name.entry.N.key / Name.entry.N.value, or flattened
		// Name.N.Name / Name.N.Value (Key / Value for tags); a value may be
		// a structure (SQS's MessageAttribute.N.Value.DataType).
		m := reflect.MakeMap(v.Type())
		entries := n.children
		if e, ok := n.children["entry"]; ok {
			entries = e.children
		}
		for i, e := range entries {
			k, val := e.children["key"], e.children["value"]
			if k == nil {
				k = e.children["name"]
			}
			if k == nil || val == nil {
				continue
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := val.decode(elem, fmt.Sprintf("%s.%s.Value", path, i)); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k.value).Convert(v.Type().Key()), elem)
		}
		v.Set(m)
	case reflect.String:
		v.SetString(n.value)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.value)
		if err != nil {
			return errInvalidParameterValue("Value (%s) for parameter %s is invalid. Expected a boolean.", n.value, path)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(n.value, 10, 64)
		if err != nil || v.OverflowInt(i) {
			return errInvalidParameterValue("Value (%s) for parameter %s is invalid. Expected an integer.", n.value, path)
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.value, 64)
		if err != nil {
			return errInvalidParameterValue("Value (%s) for parameter %s is invalid. Expected a number.", n.value, path)
		}
		v.SetFloat(f)
	}
	return nil
}

func (n *qnode) decodeStruct(v reflect.Value, path string) *Error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Tag.Get("query")
		if name == "" {
			name = f.Name
		}
		child, ok := n.children[strings.ToLower(name)]
		if !ok {
			continue
		}
		if err := child.decode(v.Field(i), joinPath(path, name)); err != nil {
			return err
		}
	}
	return nil
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}
