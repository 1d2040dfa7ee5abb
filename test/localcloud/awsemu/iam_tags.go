package awsemu

// IAM tags. Roles, instance profiles, OIDC providers and managed policies
// are tagged alike: the Tag*, Untag* and List*Tags actions of each kind
// differ only in the parameter that names the entity.

type xmlTag struct {
	Key   string
	Value string
}

func iamTagsXML(tags []IAMTag) []xmlTag {
	out := make([]xmlTag, 0, len(tags))
	for _, t := range tags {
		out = append(out, xmlTag(t))
	}
	return out
}

type tagInput struct {
	Key   string
	Value string
}

type tagsResult struct {
	Tags        []xmlTag `xml:"Tags>member"`
	IsTruncated bool
}

// mergeTags upserts tags, keeping IAM's limit of 50 per resource.
func mergeTags(have []IAMTag, add []tagInput) ([]IAMTag, *Error) {
	out := append([]IAMTag(nil), have...)
	for _, t := range add {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return nil, errIAMValidation("1 validation error detected: Value '%s' at 'tags' failed to satisfy constraint: Tag keys must be 1-128 characters and values at most 256", t.Key)
		}
		found := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, found = t.Value, true
			}
		}
		if !found {
			out = append(out, IAMTag(t))
		}
	}
	if len(out) > 50 {
		return nil, errLimitExceeded("The number of tags has reached the maximum limit.")
	}
	return out, nil
}

func removeTags(have []IAMTag, keys []string) []IAMTag {
	out := have[:0:0]
	for _, t := range have {
		drop := false
		for _, k := range keys {
			drop = drop || k == t.Key
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

// iamTagRequest is the input of one kind's tagging actions: the entity's
// name or ARN, the tags to add and the keys to remove.
type iamTagRequest interface {
	tagRequest() (ref string, tags []tagInput, keys []string)
}

type roleTagsInput struct {
	RoleName string
	Tags     []tagInput
	TagKeys  []string
}

func (in *roleTagsInput) tagRequest() (string, []tagInput, []string) {
	return in.RoleName, in.Tags, in.TagKeys
}

type profileTagsInput struct {
	InstanceProfileName string
	Tags                []tagInput
	TagKeys             []string
}

func (in *profileTagsInput) tagRequest() (string, []tagInput, []string) {
	return in.InstanceProfileName, in.Tags, in.TagKeys
}

type oidcTagsInput struct {
	OpenIDConnectProviderArn string
	Tags                     []tagInput
	TagKeys                  []string
}

func (in *oidcTagsInput) tagRequest() (string, []tagInput, []string) {
	return in.OpenIDConnectProviderArn, in.Tags, in.TagKeys
}

type policyTagsInput struct {
	PolicyArn string
	Tags      []tagInput
	TagKeys   []string
}

func (in *policyTagsInput) tagRequest() (string, []tagInput, []string) {
	return in.PolicyArn, in.Tags, in.TagKeys
}

// iamTagging makes the Tag*, Untag* and List*Tags actions of the kind whose
// entity tags find returns, failing as the kind's lookup does.
func iamTagging[In any, P interface {
	*In
	iamTagRequest
}](find func(ref string) (*[]IAMTag, *Error)) (tag, untag, list handlerFunc) {
	tag = handle(func(c *Call, in *In) (*noOutput, error) {
		ref, add, _ := P(in).tagRequest()
		tags, err := find(ref)
		if err != nil {
			return nil, err
		}
		merged, err := mergeTags(*tags, add)
		if err != nil {
			return nil, err
		}
		*tags = merged
		return nil, nil
	})
	untag = handle(func(c *Call, in *In) (*noOutput, error) {
		ref, _, keys := P(in).tagRequest()
		tags, err := find(ref)
		if err != nil {
			return nil, err
		}
		*tags = removeTags(*tags, keys)
		return nil, nil
	})
	list = handle(func(c *Call, in *In) (*tagsResult, error) {
		ref, _, _ := P(in).tagRequest()
		tags, err := find(ref)
		if err != nil {
			return nil, err
		}
		return &tagsResult{Tags: iamTagsXML(*tags)}, nil
	})
	return tag, untag, list
}
