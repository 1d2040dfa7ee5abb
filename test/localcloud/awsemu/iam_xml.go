package awsemu

import (
	"strconv"
	"strings"
)

// IAM's XML shapes and paging, shared by every IAM action.

// --- XML shapes ---

type boundaryXML struct {
	PermissionsBoundaryType string
	PermissionsBoundaryArn  string
}

type roleXML struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string       `xml:",omitempty"`
	Description              string       `xml:",omitempty"`
	MaxSessionDuration       int          `xml:",omitempty"`
	PermissionsBoundary      *boundaryXML `xml:",omitempty"`
	Tags                     []xmlTag     `xml:"Tags>member,omitempty"`
}

func (r *IAMRole) xml() roleXML {
	out := roleXML{
		Path: r.Path, RoleName: r.Name, RoleId: r.ID, Arn: r.ARN, CreateDate: iamTime(r.CreateDate),
		AssumeRolePolicyDocument: iamEncode(r.AssumeRolePolicyDocument), Description: r.Description,
		MaxSessionDuration: r.MaxSessionDuration, Tags: iamTagsXML(r.Tags),
	}
	if r.PermissionsBoundary != "" {
		out.PermissionsBoundary = &boundaryXML{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: r.PermissionsBoundary}
	}
	return out
}

type policyXML struct {
	PolicyName                    string
	PolicyId                      string
	Arn                           string
	Path                          string
	DefaultVersionId              string
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	Description                   string `xml:",omitempty"`
	CreateDate                    string
	UpdateDate                    string
	Tags                          []xmlTag `xml:"Tags>member,omitempty"`
}

func (st *IAMState) policyXML(p *IAMPolicy) policyXML {
	bounds := 0
	for _, r := range st.Roles {
		if r.PermissionsBoundary == p.ARN {
			bounds++
		}
	}
	return policyXML{
		PolicyName: p.Name, PolicyId: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionId: p.DefaultVersion,
		AttachmentCount: st.attachmentCount(p.ARN), PermissionsBoundaryUsageCount: bounds, IsAttachable: true,
		Description: p.Description, CreateDate: iamTime(p.CreateDate), UpdateDate: iamTime(p.UpdateDate), Tags: iamTagsXML(p.Tags),
	}
}

type policyVersionXML struct {
	Document         string `xml:",omitempty"`
	VersionId        string
	IsDefaultVersion bool
	CreateDate       string
}

func versionXML(p *IAMPolicy, v *IAMPolicyVersion, withDoc bool) policyVersionXML {
	out := policyVersionXML{VersionId: v.ID, IsDefaultVersion: v.ID == p.DefaultVersion, CreateDate: iamTime(v.CreateDate)}
	if withDoc {
		out.Document = iamEncode(v.Document)
	}
	return out
}

type instanceProfileXML struct {
	Path                string
	InstanceProfileName string
	InstanceProfileId   string
	Arn                 string
	CreateDate          string
	Roles               []roleXML `xml:"Roles>member"`
	Tags                []xmlTag  `xml:"Tags>member,omitempty"`
}

func (st *IAMState) profileXML(p *IAMInstanceProfile) instanceProfileXML {
	out := instanceProfileXML{
		Path: p.Path, InstanceProfileName: p.Name, InstanceProfileId: p.ID, Arn: p.ARN,
		CreateDate: iamTime(p.CreateDate), Roles: []roleXML{}, Tags: iamTagsXML(p.Tags),
	}
	for _, name := range p.Roles {
		if r := st.Roles[strings.ToLower(name)]; r != nil {
			out.Roles = append(out.Roles, r.xml())
		}
	}
	return out
}

// paginate applies IAM's Marker/MaxItems paging; the marker is the index
// of the next item.
func paginate[T any](items []T, marker string, maxItems int) ([]T, string, bool, *Error) {
	start := 0
	if marker != "" {
		n, err := strconv.Atoi(marker)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", false, errInvalidInput("Invalid Marker.")
		}
		start = n
	}
	if maxItems <= 0 {
		maxItems = 100
	}
	if maxItems > 1000 {
		return nil, "", false, errIAMValidation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000", maxItems)
	}
	end := min(start+maxItems, len(items))
	if end < len(items) {
		return items[start:end], strconv.Itoa(end), true, nil
	}
	return items[start:end], "", false, nil
}

type pageInput struct {
	Marker   string
	MaxItems int
}
