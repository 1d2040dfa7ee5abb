package awsemu

import (
	"regexp"
	"sort"
	"strings"
)

// Instance profiles and OpenID Connect providers.

func (s *Server) registerIAMInstanceProfiles(reg func(string, bool, func(*Call) (any, error))) {
	reg("CreateInstanceProfile", true, handle(s.iamCreateInstanceProfile))
	reg("GetInstanceProfile", false, handle(s.iamGetInstanceProfile))
	reg("AddRoleToInstanceProfile", true, handle(s.iamAddRoleToInstanceProfile))
	reg("RemoveRoleFromInstanceProfile", true, handle(s.iamRemoveRoleFromInstanceProfile))
	tag, untag, list := iamTagging[profileTagsInput](func(name string) (*[]IAMTag, *Error) {
		p, err := s.iamProfile(name)
		if err != nil {
			return nil, err
		}
		return &p.Tags, nil
	})
	reg("TagInstanceProfile", true, tag)
	reg("UntagInstanceProfile", true, untag)
	reg("ListInstanceProfileTags", false, list)
	reg("ListInstanceProfiles", false, handle(s.iamListInstanceProfiles))
	reg("ListInstanceProfilesForRole", false, handle(s.iamListInstanceProfilesForRole))
	reg("DeleteInstanceProfile", true, handle(s.iamDeleteInstanceProfile))
}

func (s *Server) iamProfile(name string) (*IAMInstanceProfile, *Error) {
	if err := validateIAMName("InstanceProfileName", name, 128); err != nil {
		return nil, err
	}
	p := s.world.IAM.InstanceProfiles[strings.ToLower(name)]
	if p == nil {
		return nil, errNoSuchEntity("Instance Profile %s cannot be found.", name)
	}
	return p, nil
}

type profileResult struct {
	InstanceProfile instanceProfileXML
}

type iamCreateInstanceProfileInput struct {
	InstanceProfileName string
	Path                string
	Tags                []tagInput
}

func (s *Server) iamCreateInstanceProfile(c *Call, in *iamCreateInstanceProfileInput) (*profileResult, error) {
	if err := validateIAMName("InstanceProfileName", in.InstanceProfileName, 128); err != nil {
		return nil, err
	}
	path, perr := defaultPath(in.Path)
	if perr != nil {
		return nil, perr
	}
	st := s.world.IAM
	if st.InstanceProfiles[strings.ToLower(in.InstanceProfileName)] != nil {
		return nil, errEntityExists("Instance Profile %s already exists.", in.InstanceProfileName)
	}
	tags, terr := mergeTags(nil, in.Tags)
	if terr != nil {
		return nil, terr
	}
	p := &IAMInstanceProfile{
		Name: in.InstanceProfileName, Path: path, ID: iamID("AIPA"),
		ARN:        "arn:aws:iam::" + AccountID + ":instance-profile" + path + in.InstanceProfileName,
		CreateDate: s.clock.Now().UTC(), Roles: []string{}, Tags: tags,
	}
	st.InstanceProfiles[strings.ToLower(p.Name)] = p
	s.log.Info("iam: created instance profile", "profile", p.ARN)
	return &profileResult{st.profileXML(p)}, nil
}

type iamGetInstanceProfileInput struct{ InstanceProfileName string }

func (s *Server) iamGetInstanceProfile(c *Call, in *iamGetInstanceProfileInput) (*profileResult, error) {
	p, err := s.iamProfile(in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	return &profileResult{s.world.IAM.profileXML(p)}, nil
}

type profileRoleInput struct {
	InstanceProfileName string
	RoleName            string
}

func (s *Server) iamAddRoleToInstanceProfile(c *Call, in *profileRoleInput) (*noOutput, error) {
	p, err := s.iamProfile(in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	r, err := s.iamRole(in.RoleName)
	if err != nil {
		return nil, err
	}
	if len(p.Roles) > 0 {
		return nil, errLimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	}
	p.Roles = append(p.Roles, r.Name)
	return nil, nil
}

func (s *Server) iamRemoveRoleFromInstanceProfile(c *Call, in *profileRoleInput) (*noOutput, error) {
	p, err := s.iamProfile(in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	if _, err := s.iamRole(in.RoleName); err != nil {
		return nil, err
	}
	for i, name := range p.Roles {
		if strings.EqualFold(name, in.RoleName) {
			p.Roles = append(p.Roles[:i], p.Roles[i+1:]...)
			return nil, nil
		}
	}
	return nil, errNoSuchEntity("The role with name %s cannot be found in instance profile %s.", in.RoleName, p.Name)
}

type profilesResult struct {
	InstanceProfiles []instanceProfileXML `xml:"InstanceProfiles>member"`
	IsTruncated      bool
	Marker           string `xml:",omitempty"`
}

func (s *Server) profilesPage(profiles []*IAMInstanceProfile, marker string, maxItems int) (*profilesResult, error) {
	sort.Slice(profiles, func(i, j int) bool {
		return strings.ToLower(profiles[i].Name) < strings.ToLower(profiles[j].Name)
	})
	page, next, truncated, err := paginate(profiles, marker, maxItems)
	if err != nil {
		return nil, err
	}
	return s.profilesResult(page, next, truncated), nil
}

func (s *Server) profilesResult(page []*IAMInstanceProfile, marker string, truncated bool) *profilesResult {
	out := profilesResult{InstanceProfiles: []instanceProfileXML{}, IsTruncated: truncated, Marker: marker}
	for _, p := range page {
		out.InstanceProfiles = append(out.InstanceProfiles, s.world.IAM.profileXML(p))
	}
	return &out
}

func (s *Server) iamListInstanceProfiles(c *Call, in *pathPageInput) (*profilesResult, error) {
	page, marker, truncated, err := pageByPath(in, s.world.IAM.InstanceProfiles, func(p *IAMInstanceProfile) (string, string) { return p.Path, p.Name })
	if err != nil {
		return nil, err
	}
	return s.profilesResult(page, marker, truncated), nil
}

type iamListInstanceProfilesForRoleInput struct {
	RoleName string
	Marker   string
	MaxItems int
}

func (s *Server) iamListInstanceProfilesForRole(c *Call, in *iamListInstanceProfilesForRoleInput) (*profilesResult, error) {
	r, err := s.iamRole(in.RoleName)
	if err != nil {
		return nil, err
	}
	var picked []*IAMInstanceProfile
	for _, p := range s.world.IAM.InstanceProfiles {
		for _, name := range p.Roles {
			if strings.EqualFold(name, r.Name) {
				picked = append(picked, p)
			}
		}
	}
	return s.profilesPage(picked, in.Marker, in.MaxItems)
}

type iamDeleteInstanceProfileInput struct{ InstanceProfileName string }

func (s *Server) iamDeleteInstanceProfile(c *Call, in *iamDeleteInstanceProfileInput) (*noOutput, error) {
	p, err := s.iamProfile(in.InstanceProfileName)
	if err != nil {
		return nil, err
	}
	if len(p.Roles) > 0 {
		return nil, errDeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
	}
	delete(s.world.IAM.InstanceProfiles, strings.ToLower(p.Name))
	s.log.Info("iam: deleted instance profile", "profile", p.ARN)
	return nil, nil
}

// --- OpenID Connect providers ---

func (s *Server) registerIAMOIDC(reg func(string, bool, func(*Call) (any, error))) {
	reg("CreateOpenIDConnectProvider", true, handle(s.iamCreateOIDCProvider))
	reg("GetOpenIDConnectProvider", false, handle(s.iamGetOIDCProvider))
	reg("ListOpenIDConnectProviders", false, handle(s.iamListOIDCProviders))
	reg("DeleteOpenIDConnectProvider", true, handle(s.iamDeleteOIDCProvider))
	tag, untag, list := iamTagging[oidcTagsInput](func(arn string) (*[]IAMTag, *Error) {
		p, err := s.oidcProvider(arn)
		if err != nil {
			return nil, err
		}
		return &p.Tags, nil
	})
	reg("TagOpenIDConnectProvider", true, tag)
	reg("UntagOpenIDConnectProvider", true, untag)
	reg("ListOpenIDConnectProviderTags", false, list)
}

var thumbprintRE = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

func (s *Server) oidcProvider(arn string) (*IAMOIDCProvider, *Error) {
	if !strings.HasPrefix(arn, "arn:aws:iam::") {
		return nil, errInvalidInput("ARN %s is not valid.", arn)
	}
	p := s.world.IAM.OIDCProviders[arn]
	if p == nil {
		return nil, errNoSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
	}
	return p, nil
}

type iamCreateOIDCProviderInput struct {
	Url            string
	ClientIDList   []string
	ThumbprintList []string
	Tags           []tagInput
}

type iamCreateOIDCProviderOutput struct {
	OpenIDConnectProviderArn string
	Tags                     []xmlTag `xml:"Tags>member,omitempty"`
}

func (s *Server) iamCreateOIDCProvider(c *Call, in *iamCreateOIDCProviderInput) (*iamCreateOIDCProviderOutput, error) {
	host, ok := strings.CutPrefix(in.Url, "https://")
	host = strings.TrimSuffix(host, "/")
	if !ok || host == "" || len(in.Url) > 255 {
		return nil, errInvalidInput("Invalid Open ID Connect Provider URL: %s", in.Url)
	}
	for _, t := range in.ThumbprintList {
		if !thumbprintRE.MatchString(t) {
			return nil, errInvalidInput("Thumbprint %s must be a 40-character hex string.", t)
		}
	}
	if len(in.ThumbprintList) > 5 {
		return nil, errLimitExceeded("Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: 5")
	}
	if len(in.ClientIDList) > 100 {
		return nil, errLimitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
	}
	arn := "arn:aws:iam::" + AccountID + ":oidc-provider/" + host
	if s.world.IAM.OIDCProviders[arn] != nil {
		return nil, errEntityExists("Provider with url %s already exists.", in.Url)
	}
	tags, terr := mergeTags(nil, in.Tags)
	if terr != nil {
		return nil, terr
	}
	now := s.clock.Now().UTC()
	p := &IAMOIDCProvider{ARN: arn, URL: host, ClientIDs: in.ClientIDList, Thumbprints: in.ThumbprintList, CreateDate: now, LastModifiedAt: now, Tags: tags}
	s.world.IAM.OIDCProviders[arn] = p
	return &iamCreateOIDCProviderOutput{arn, iamTagsXML(tags)}, nil
}

type iamGetOIDCProviderInput struct{ OpenIDConnectProviderArn string }

type iamGetOIDCProviderOutput struct {
	Url            string
	ClientIDList   []string `xml:"ClientIDList>member"`
	ThumbprintList []string `xml:"ThumbprintList>member"`
	CreateDate     string
	Tags           []xmlTag `xml:"Tags>member,omitempty"`
}

func (s *Server) iamGetOIDCProvider(c *Call, in *iamGetOIDCProviderInput) (*iamGetOIDCProviderOutput, error) {
	p, err := s.oidcProvider(in.OpenIDConnectProviderArn)
	if err != nil {
		return nil, err
	}
	return &iamGetOIDCProviderOutput{p.URL, p.ClientIDs, p.Thumbprints, iamTime(p.CreateDate), iamTagsXML(p.Tags)}, nil
}

type oidcProviderEntry struct{ Arn string }

type iamListOIDCProvidersOutput struct {
	OpenIDConnectProviderList []oidcProviderEntry `xml:"OpenIDConnectProviderList>member"`
}

func (s *Server) iamListOIDCProviders(c *Call, _ *noInput) (*iamListOIDCProvidersOutput, error) {
	out := iamListOIDCProvidersOutput{OpenIDConnectProviderList: []oidcProviderEntry{}}
	for arn := range s.world.IAM.OIDCProviders {
		out.OpenIDConnectProviderList = append(out.OpenIDConnectProviderList, oidcProviderEntry{arn})
	}
	sort.Slice(out.OpenIDConnectProviderList, func(i, j int) bool {
		return out.OpenIDConnectProviderList[i].Arn < out.OpenIDConnectProviderList[j].Arn
	})
	return &out, nil
}

type iamDeleteOIDCProviderInput struct{ OpenIDConnectProviderArn string }

func (s *Server) iamDeleteOIDCProvider(c *Call, in *iamDeleteOIDCProviderInput) (*noOutput, error) {
	p, err := s.oidcProvider(in.OpenIDConnectProviderArn)
	if err != nil {
		return nil, err
	}
	delete(s.world.IAM.OIDCProviders, p.ARN)
	return nil, nil
}
