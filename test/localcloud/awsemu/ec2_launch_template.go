package awsemu

import (
	"regexp"
	"sort"
	"strings"
)

// ---- launch templates ----

type launchTemplateXML struct {
	LaunchTemplateID     string  `xml:"launchTemplateId" json:"-"`
	LaunchTemplateName   string  `xml:"launchTemplateName"`
	CreateTime           string  `xml:"createTime"`
	CreatedBy            string  `xml:"createdBy"`
	DefaultVersionNumber int     `xml:"defaultVersionNumber"`
	LatestVersionNumber  int     `xml:"latestVersionNumber"`
	TagSet               *tagSet `xml:"tagSet,omitempty"`
}

func ltXML(lt *LaunchTemplate) launchTemplateXML {
	return launchTemplateXML{LaunchTemplateID: lt.ID, LaunchTemplateName: lt.Name, CreateTime: ec2Time(lt.CreateTime),
		CreatedBy: "arn:aws:iam::" + AccountID + ":root", DefaultVersionNumber: 1, LatestVersionNumber: 1, TagSet: tagsXML(lt.Tags)}
}

var ltNamePattern = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)

func (s *Server) ltByName(name string) *LaunchTemplate {
	for _, lt := range s.ec2().LaunchTemplates {
		if lt.Name == name {
			return lt
		}
	}
	return nil
}

func errLTIDNotFound(id string) *Error {
	return Errorf(400, "InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
}

func errLTNameNotFound(name string) *Error {
	return Errorf(400, "InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", name)
}

type ec2CreateLaunchTemplateInput struct {
	DryRun             bool
	LaunchTemplateName string
	LaunchTemplateData *LaunchTemplateData
	TagSpecifications  []TagSpecification `query:"TagSpecification"`
}

type ec2CreateLaunchTemplateOutput struct {
	LT launchTemplateXML `xml:"launchTemplate"`
}

func (s *Server) ec2CreateLaunchTemplate(c *Call, in *ec2CreateLaunchTemplateInput) (*ec2CreateLaunchTemplateOutput, error) {
	if in.LaunchTemplateName == "" {
		return nil, errMissingParameter("LaunchTemplateName")
	}
	if in.LaunchTemplateData == nil {
		return nil, errMissingParameter("LaunchTemplateData")
	}
	if !ltNamePattern.MatchString(in.LaunchTemplateName) {
		return nil, errInvalidParameterValue("Launch template name %q must be 3 to 128 characters of letters, digits and ( ) . - / _", in.LaunchTemplateName)
	}
	if err := validateTagSpecs(in.TagSpecifications, "launch-template"); err != nil {
		return nil, err
	}
	if err := validateTagSpecs(in.LaunchTemplateData.TagSpecifications, "instance", "volume", "network-interface", "spot-instances-request"); err != nil {
		return nil, err
	}
	d := in.LaunchTemplateData
	if d.InstanceType != "" && s.catalog.ByName[d.InstanceType] == nil {
		return nil, errInvalidParameterValue("Invalid instance type %s", d.InstanceType)
	}
	if d.ImageID != "" && !strings.HasPrefix(d.ImageID, "ami-") {
		return nil, Errorf(400, "InvalidAMIID.Malformed", "Invalid id: %q (expecting \"ami-...\")", d.ImageID)
	}
	for _, g := range d.SecurityGroupIDs {
		if s.groupByID(g) == nil {
			return nil, Errorf(400, "InvalidGroupId.NotFound", "The security group '%s' does not exist", g)
		}
	}
	if s.ltByName(in.LaunchTemplateName) != nil {
		return nil, Errorf(400, "InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	lt := &LaunchTemplate{ID: newID("lt"), Name: in.LaunchTemplateName, CreateTime: s.clock.Now(), Data: *d,
		Tags: tagsFromSpecs(in.TagSpecifications, "launch-template")}
	s.ec2().LaunchTemplates[lt.ID] = lt
	return &ec2CreateLaunchTemplateOutput{ltXML(lt)}, nil
}

type ec2DescribeLaunchTemplatesInput struct {
	DryRun     bool
	IDs        []string    `query:"LaunchTemplateId"`
	Names      []string    `query:"LaunchTemplateName"`
	Filters    []ec2Filter `query:"Filter"`
	MaxResults int
	NextToken  string
}

type ec2DescribeLaunchTemplatesOutput struct {
	LTs       items[launchTemplateXML] `xml:"launchTemplates"`
	NextToken string                   `xml:"nextToken,omitempty"`
}

func (s *Server) ec2DescribeLaunchTemplates(c *Call, in *ec2DescribeLaunchTemplatesInput) (*ec2DescribeLaunchTemplatesOutput, error) {
	if in.DryRun {
		return nil, errDryRun()
	}
	var list []*LaunchTemplate
	if len(in.IDs) > 0 || len(in.Names) > 0 {
		for _, id := range in.IDs {
			lt := s.ec2().LaunchTemplates[id]
			if lt == nil {
				return nil, errLTIDNotFound(id)
			}
			list = append(list, lt)
		}
		for _, name := range in.Names {
			lt := s.ltByName(name)
			if lt == nil {
				return nil, errLTNameNotFound(name)
			}
			list = append(list, lt)
		}
	} else {
		for _, id := range sortedKeys(s.ec2().LaunchTemplates) {
			list = append(list, s.ec2().LaunchTemplates[id])
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].CreateTime.Before(list[j].CreateTime) })
	}
	pg, next, err := filterPage("DescribeLaunchTemplates", list, in.Filters, filterFields[*LaunchTemplate]{
		"launch-template-name": func(lt *LaunchTemplate) []string { return []string{lt.Name} },
		"create-time":          func(lt *LaunchTemplate) []string { return []string{ec2Time(lt.CreateTime)} },
	}, func(lt *LaunchTemplate) map[string]string { return lt.Tags }, in.NextToken, in.MaxResults, 1, 200)
	if err != nil {
		return nil, err
	}
	out := ec2DescribeLaunchTemplatesOutput{NextToken: next}
	for _, lt := range pg {
		out.LTs.Item = append(out.LTs.Item, ltXML(lt))
	}
	return &out, nil
}

type ec2DeleteLaunchTemplateInput struct {
	DryRun             bool
	LaunchTemplateID   string `query:"LaunchTemplateId"`
	LaunchTemplateName string
}

type ec2DeleteLaunchTemplateOutput struct {
	LT launchTemplateXML `xml:"launchTemplate"`
}

func (s *Server) ec2DeleteLaunchTemplate(c *Call, in *ec2DeleteLaunchTemplateInput) (*ec2DeleteLaunchTemplateOutput, error) {
	lt, err := s.resolveLT(in.LaunchTemplateID, in.LaunchTemplateName)
	if err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	delete(s.ec2().LaunchTemplates, lt.ID)
	return &ec2DeleteLaunchTemplateOutput{ltXML(lt)}, nil
}

func (s *Server) resolveLT(id, name string) (*LaunchTemplate, *Error) {
	switch {
	case id != "" && name != "":
		return nil, Errorf(400, "InvalidParameterCombination", "Specify either a launch template ID or a name, not both")
	case id != "":
		if lt := s.ec2().LaunchTemplates[id]; lt != nil {
			return lt, nil
		}
		return nil, errLTIDNotFound(id)
	case name != "":
		if lt := s.ltByName(name); lt != nil {
			return lt, nil
		}
		return nil, errLTNameNotFound(name)
	}
	return nil, errMissingParameter("LaunchTemplateId or LaunchTemplateName")
}

func checkLTVersion(lt *LaunchTemplate, v string) *Error {
	switch v {
	case "", "$Latest", "$Default", "1":
		return nil
	}
	return Errorf(400, "InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for launch template %s", v, lt.ID)
}
