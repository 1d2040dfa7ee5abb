package awsemu

// handlerFunc is an operation as the server runs it: it reads its request
// from the Call and returns the result the protocol's writer encodes, nil
// for an operation without output.
type handlerFunc func(*Call) (any, error)

// noInput is the input of an operation that takes no parameters; the
// query protocols decode any form into it without error.
type noInput struct{}

// noOutput is the output of an operation that writes no result element.
type noOutput struct{}

// handle makes an operation of fn, which holds only its behaviour: the
// request is decoded into an In as the protocol it came in requires (query
// form values, a JSON body, a REST path), and the Out fn returns is encoded
// the same way. A nil *Out is an operation without output, which the query
// protocols answer without a result element.
//
// Out is handed on by value, as the handlers did before this layer, so a
// value-receiver MarshalXML is the only marshaler that applies to it.
func handle[In, Out any](fn func(*Call, *In) (*Out, error)) handlerFunc {
	return func(c *Call) (any, error) {
		in := new(In)
		if err := c.Decode(in); err != nil {
			return nil, err
		}
		out, err := fn(c, in)
		if err != nil || out == nil {
			return nil, err
		}
		return *out, nil
	}
}
