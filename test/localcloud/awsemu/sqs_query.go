package awsemu

// SQS in the query protocol: the XML shapes of its attributes, tags and
// message attributes, and its error codes.

import (
	"encoding/base64"
	"encoding/xml"
)

// SQSMessageAttribute is a message attribute as SQS takes and returns it.
// The query protocol names its lists in the singular (StringListValue.N).
type SQSMessageAttribute struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty" query:"StringListValue"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty" query:"BinaryListValue"`
}

// MarshalXML writes the attribute as the query protocol does: binary values
// base64-encoded, lists flattened.
func (a SQSMessageAttribute) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	out := struct {
		StringValue      *string  `xml:",omitempty"`
		BinaryValue      string   `xml:",omitempty"`
		StringListValues []string `xml:"StringListValue"`
		BinaryListValues []string `xml:"BinaryListValue"`
		DataType         string
	}{StringValue: a.StringValue, StringListValues: a.StringListValues, DataType: a.DataType}
	if a.BinaryValue != nil {
		out.BinaryValue = base64.StdEncoding.EncodeToString(a.BinaryValue)
	}
	for _, b := range a.BinaryListValues {
		out.BinaryListValues = append(out.BinaryListValues, base64.StdEncoding.EncodeToString(b))
	}
	return e.EncodeElement(out, start)
}

// SQS's maps, which JSON writes as objects and the query protocol as
// flattened entries named for the field: <Attribute><Name/><Value/></Attribute>
// for queue and message system attributes, <Tag><Key/><Value/></Tag> for tags,
// <MessageAttribute><Name/><Value>...</Value></MessageAttribute>.
type (
	sqsAttributes        map[string]string
	sqsTags              map[string]string
	sqsMessageAttributes map[string]SQSMessageAttribute
)

func (m sqsAttributes) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return encodeFlatMap(e, start, "Name", "Value", m)
}

func (m sqsTags) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return encodeFlatMap(e, start, "Key", "Value", m)
}

func (m sqsMessageAttributes) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return encodeFlatMap(e, start, "Name", "Value", m)
}

// sqsQueryErrorCode maps SQS's JSON error shape names to the codes of its
// query protocol (the error codes of the query-protocol botocore model,
// aws-cli 2.9's), which the JSON protocol also sends in x-amzn-query-error.
// The SDK keeps the typed error (types.QueueDoesNotExist) but reports the
// query code from ErrorCode(), exactly as against AWS.
func sqsQueryErrorCode(code string) string {
	switch code {
	case "QueueDoesNotExist":
		return "AWS.SimpleQueueService.NonExistentQueue"
	case "QueueNameExists":
		return "QueueAlreadyExists"
	case "PurgeQueueInProgress", "QueueDeletedRecently", "TooManyEntriesInBatchRequest", "EmptyBatchRequest",
		"BatchEntryIdsNotDistinct", "InvalidBatchEntryId", "MessageNotInflight", "UnsupportedOperation", "BatchRequestTooLong":
		return "AWS.SimpleQueueService." + code
	}
	return code
}
