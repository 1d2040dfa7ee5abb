package awsemu

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// EKSState is the simulated EKS service's state. There is exactly one
// cluster, described by WorldOptions; this holds what API calls add to it.
type EKSState struct {
	CreatedAt time.Time `json:"createdAt"`
	// ClusterTags are the cluster ARN's tags.
	ClusterTags map[string]string `json:"clusterTags"`
	// AccessEntries are keyed by principal ARN.
	AccessEntries map[string]*EKSAccessEntry `json:"accessEntries"`
	// PodIdentityAssociations are keyed by association id.
	PodIdentityAssociations map[string]*EKSPodIdentityAssociation `json:"podIdentityAssociations"`
}

// EKSAccessEntry grants an IAM principal access to the cluster.
type EKSAccessEntry struct {
	PrincipalARN     string            `json:"principalArn"`
	ARN              string            `json:"arn"`
	Type             string            `json:"type"`
	Username         string            `json:"username"`
	KubernetesGroups []string          `json:"kubernetesGroups"`
	Tags             map[string]string `json:"tags"`
	CreatedAt        time.Time         `json:"createdAt"`
	ModifiedAt       time.Time         `json:"modifiedAt"`
}

// EKSPodIdentityAssociation maps a service account to an IAM role.
type EKSPodIdentityAssociation struct {
	ID             string            `json:"id"`
	ARN            string            `json:"arn"`
	Namespace      string            `json:"namespace"`
	ServiceAccount string            `json:"serviceAccount"`
	RoleARN        string            `json:"roleArn"`
	Tags           map[string]string `json:"tags"`
	CreatedAt      time.Time         `json:"createdAt"`
	ModifiedAt     time.Time         `json:"modifiedAt"`
}

func newEKSState(w *World) *EKSState {
	return &EKSState{
		CreatedAt:               time.Now().UTC().Truncate(time.Second),
		ClusterTags:             map[string]string{},
		AccessEntries:           map[string]*EKSAccessEntry{},
		PodIdentityAssociations: map[string]*EKSPodIdentityAssociation{},
	}
}

// epoch renders a time as the epoch seconds REST-JSON timestamps use.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (s *Server) clusterARN() string {
	return "arn:aws:eks:" + s.world.Region + ":" + AccountID + ":cluster/" + s.world.Options.ClusterName
}

func errEKSNotFound(format string, args ...any) *Error {
	return Errorf(404, "ResourceNotFoundException", format, args...)
}

func errEKSInvalidParameter(format string, args ...any) *Error {
	return Errorf(400, "InvalidParameterException", format, args...)
}

// cluster checks that a request names the one cluster.
func (s *Server) cluster(name string) *Error {
	if name != s.world.Options.ClusterName {
		return errEKSNotFound("No cluster found for name: %s.", name)
	}
	return nil
}

func (s *Server) registerEKS() {
	r := func(action, method, path string, mutates bool, h func(*Call) (any, error)) {
		s.registerREST("eks", action, method, path, mutates, h)
	}
	r("ListClusters", "GET", "/clusters", false, s.eksListClusters)
	r("DescribeCluster", "GET", "/clusters/{name}", false, s.eksDescribeCluster)
	r("CreateAccessEntry", "POST", "/clusters/{clusterName}/access-entries", true, s.eksCreateAccessEntry)
	r("ListAccessEntries", "GET", "/clusters/{clusterName}/access-entries", false, s.eksListAccessEntries)
	r("DescribeAccessEntry", "GET", "/clusters/{clusterName}/access-entries/{principalArn}", false, s.eksDescribeAccessEntry)
	r("UpdateAccessEntry", "POST", "/clusters/{clusterName}/access-entries/{principalArn}", true, s.eksUpdateAccessEntry)
	r("DeleteAccessEntry", "DELETE", "/clusters/{clusterName}/access-entries/{principalArn}", true, s.eksDeleteAccessEntry)
	r("CreatePodIdentityAssociation", "POST", "/clusters/{clusterName}/pod-identity-associations", true, s.eksCreatePodIdentityAssociation)
	r("ListPodIdentityAssociations", "GET", "/clusters/{clusterName}/pod-identity-associations", false, s.eksListPodIdentityAssociations)
	r("DescribePodIdentityAssociation", "GET", "/clusters/{clusterName}/pod-identity-associations/{associationId}", false, s.eksDescribePodIdentityAssociation)
	r("DeletePodIdentityAssociation", "DELETE", "/clusters/{clusterName}/pod-identity-associations/{associationId}", true, s.eksDeletePodIdentityAssociation)
	r("TagResource", "POST", "/tags/{resourceArn}", true, s.eksTagResource)
	r("UntagResource", "DELETE", "/tags/{resourceArn}", true, s.eksUntagResource)
	r("ListTagsForResource", "GET", "/tags/{resourceArn}", false, s.eksListTagsForResource)
}

// eksPage applies maxResults/nextToken paging; the token is the next index.
func eksPage[T any](c *Call, items []T, maxDefault, maxLimit int) ([]T, string, *Error) {
	start := 0
	if tok := c.Query.Get("nextToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", errEKSInvalidParameter("The nextToken %q is not valid.", tok)
		}
		start = n
	}
	limit := maxDefault
	if v := c.Query.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return nil, "", errEKSInvalidParameter("maxResults must be between 1 and %d.", maxLimit)
		}
		limit = n
	}
	end := min(start+limit, len(items))
	if end < len(items) {
		return items[start:end], strconv.Itoa(end), nil
	}
	return items[start:end], "", nil
}

func (s *Server) eksListClusters(c *Call) (any, error) {
	page, next, err := eksPage(c, []string{s.world.Options.ClusterName}, 100, 100)
	if err != nil {
		return nil, err
	}
	return map[string]any{"clusters": page, "nextToken": omitEmpty(next)}, nil
}

// omitEmpty turns "" into a JSON null, which the SDK reads as absent.
func omitEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) eksDescribeCluster(c *Call) (any, error) {
	if err := s.cluster(c.Path["name"]); err != nil {
		return nil, err
	}
	o := s.world.Options
	st := s.world.EKS
	cluster := map[string]any{
		"name":            o.ClusterName,
		"arn":             s.clusterARN(),
		"createdAt":       epoch(st.CreatedAt),
		"version":         o.KubernetesVersion,
		"endpoint":        o.ClusterEndpoint,
		"roleArn":         "arn:aws:iam::" + AccountID + ":role/" + o.ClusterName + "-cluster",
		"status":          "ACTIVE",
		"platformVersion": "eks.1",
		"id":              "localcloud-" + o.ClusterName,
		"tags":            st.ClusterTags,
		"certificateAuthority": map[string]any{
			"data": base64.StdEncoding.EncodeToString(o.ClusterCA),
		},
		"identity": map[string]any{
			"oidc": map[string]any{"issuer": o.OIDCIssuer},
		},
		"accessConfig": map[string]any{
			"authenticationMode":                      "API_AND_CONFIG_MAP",
			"bootstrapClusterCreatorAdminPermissions": true,
		},
		"kubernetesNetworkConfig": map[string]any{
			"serviceIpv4Cidr": "10.96.0.0/16",
			"ipFamily":        "ipv4",
		},
		"resourcesVpcConfig": s.eksVPCConfig(),
		"health":             map[string]any{"issues": []any{}},
	}
	return map[string]any{"cluster": cluster}, nil
}

// eksVPCConfig reports endpoint access only: subnet and security-group ids
// belong to the EC2 side of the world, and nodewright discovers those by tag.
func (s *Server) eksVPCConfig() map[string]any {
	return map[string]any{
		"endpointPublicAccess":  true,
		"endpointPrivateAccess": true,
		"publicAccessCidrs":     []string{"0.0.0.0/0"},
	}
}

func (e *EKSAccessEntry) json(cluster string) map[string]any {
	return map[string]any{
		"clusterName":      cluster,
		"principalArn":     e.PrincipalARN,
		"accessEntryArn":   e.ARN,
		"type":             e.Type,
		"username":         e.Username,
		"kubernetesGroups": e.KubernetesGroups,
		"tags":             e.Tags,
		"createdAt":        epoch(e.CreatedAt),
		"modifiedAt":       epoch(e.ModifiedAt),
	}
}

// accessEntryTypes are the types EKS accepts; only STANDARD carries groups.
var accessEntryTypes = map[string]bool{
	"STANDARD": true, "EC2_LINUX": true, "EC2_WINDOWS": true, "FARGATE_LINUX": true, "HYBRID_LINUX": true, "EC2": true,
}

func (s *Server) eksCreateAccessEntry(c *Call) (any, error) {
	cluster := c.Path["clusterName"]
	if err := s.cluster(cluster); err != nil {
		return nil, err
	}
	var in struct {
		PrincipalArn     string            `json:"principalArn"`
		KubernetesGroups []string          `json:"kubernetesGroups"`
		Tags             map[string]string `json:"tags"`
		Username         string            `json:"username"`
		Type             string            `json:"type"`
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if in.PrincipalArn == "" {
		return nil, errEKSInvalidParameter("principalArn is required.")
	}
	if in.Type == "" {
		in.Type = "STANDARD"
	}
	if !accessEntryTypes[in.Type] {
		return nil, errEKSInvalidParameter("The type %s is not valid. Valid types: STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX, EC2.", in.Type)
	}
	role := s.world.IAM.RoleByARN(in.PrincipalArn)
	if role == nil {
		return nil, errEKSInvalidParameter("The specified principalArn is invalid: invalid principal %s.", in.PrincipalArn)
	}
	st := s.world.EKS
	if st.AccessEntries[in.PrincipalArn] != nil {
		return nil, Errorf(409, "ResourceInUseException", "The specified access entry resource is already in use on this cluster.")
	}
	if in.Type != "STANDARD" {
		if len(in.KubernetesGroups) > 0 {
			return nil, errEKSInvalidParameter("Kubernetes groups cannot be specified for access entries of type %s.", in.Type)
		}
		if in.Username != "" {
			return nil, errEKSInvalidParameter("A username cannot be specified for access entries of type %s.", in.Type)
		}
	}
	groups := in.KubernetesGroups
	username := in.Username
	switch in.Type {
	case "STANDARD":
		if username == "" {
			username = "arn:aws:sts::" + AccountID + ":assumed-role/" + role.Name + "/{{SessionName}}"
		}
	case "EC2_WINDOWS":
		groups, username = []string{"system:nodes", "eks:kube-proxy-windows"}, "system:node:{{EC2PrivateDNSName}}"
	case "FARGATE_LINUX":
		groups, username = []string{"system:nodes", "system:node-proxier"}, "system:node:{{SessionName}}"
	case "HYBRID_LINUX":
		groups, username = []string{"system:nodes"}, "system:node:{{SessionName}}"
	default: // EC2_LINUX, EC2
		groups, username = []string{"system:nodes"}, "system:node:{{EC2PrivateDNSName}}"
	}
	if groups == nil {
		groups = []string{}
	}
	if in.Tags == nil {
		in.Tags = map[string]string{}
	}
	now := s.clock.Now().UTC()
	e := &EKSAccessEntry{
		PrincipalARN: in.PrincipalArn, Type: in.Type, Username: username, KubernetesGroups: groups, Tags: in.Tags,
		ARN: "arn:aws:eks:" + s.world.Region + ":" + AccountID + ":access-entry/" + cluster + "/role/" + AccountID + "/" +
			role.Name + "/" + uuid.NewString(),
		CreatedAt: now, ModifiedAt: now,
	}
	st.AccessEntries[e.PrincipalARN] = e
	s.log.Info("eks: created access entry", "principal", e.PrincipalARN, "type", e.Type)
	return map[string]any{"accessEntry": e.json(cluster)}, nil
}

func (s *Server) accessEntry(c *Call) (*EKSAccessEntry, *Error) {
	if err := s.cluster(c.Path["clusterName"]); err != nil {
		return nil, err
	}
	e := s.world.EKS.AccessEntries[c.Path["principalArn"]]
	if e == nil {
		return nil, errEKSNotFound("The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.")
	}
	return e, nil
}

func (s *Server) eksDescribeAccessEntry(c *Call) (any, error) {
	e, err := s.accessEntry(c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"accessEntry": e.json(c.Path["clusterName"])}, nil
}

func (s *Server) eksListAccessEntries(c *Call) (any, error) {
	if err := s.cluster(c.Path["clusterName"]); err != nil {
		return nil, err
	}
	arns := make([]string, 0, len(s.world.EKS.AccessEntries))
	for arn := range s.world.EKS.AccessEntries {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	page, next, err := eksPage(c, arns, 100, 100)
	if err != nil {
		return nil, err
	}
	return map[string]any{"accessEntries": page, "nextToken": omitEmpty(next)}, nil
}

func (s *Server) eksUpdateAccessEntry(c *Call) (any, error) {
	e, err := s.accessEntry(c)
	if err != nil {
		return nil, err
	}
	var in struct {
		KubernetesGroups []string `json:"kubernetesGroups"`
		Username         *string  `json:"username"`
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if e.Type != "STANDARD" && (in.KubernetesGroups != nil || in.Username != nil) {
		return nil, errEKSInvalidParameter("Kubernetes groups and username cannot be changed for access entries of type %s.", e.Type)
	}
	if in.KubernetesGroups != nil {
		e.KubernetesGroups = in.KubernetesGroups
	}
	if in.Username != nil {
		e.Username = *in.Username
	}
	e.ModifiedAt = s.clock.Now().UTC()
	return map[string]any{"accessEntry": e.json(c.Path["clusterName"])}, nil
}

func (s *Server) eksDeleteAccessEntry(c *Call) (any, error) {
	e, err := s.accessEntry(c)
	if err != nil {
		return nil, err
	}
	delete(s.world.EKS.AccessEntries, e.PrincipalARN)
	s.log.Info("eks: deleted access entry", "principal", e.PrincipalARN)
	return map[string]any{}, nil
}

// taggable returns the tag map of the resource an EKS ARN names.
func (s *Server) eksTaggable(arn string) (map[string]string, *Error) {
	if arn == s.clusterARN() {
		return s.world.EKS.ClusterTags, nil
	}
	for _, e := range s.world.EKS.AccessEntries {
		if e.ARN == arn {
			return e.Tags, nil
		}
	}
	for _, a := range s.world.EKS.PodIdentityAssociations {
		if a.ARN == arn {
			return a.Tags, nil
		}
	}
	if !strings.HasPrefix(arn, "arn:aws:eks:") {
		return nil, Errorf(400, "BadRequestException", "%s is not a valid EKS ARN.", arn)
	}
	return nil, Errorf(404, "NotFoundException", "Resource %s was not found.", arn)
}

func (s *Server) eksTagResource(c *Call) (any, error) {
	tags, err := s.eksTaggable(c.Path["resourceArn"])
	if err != nil {
		return nil, err
	}
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, Errorf(400, "BadRequestException", "tags must not be empty.")
	}
	for k, v := range in.Tags {
		tags[k] = v
	}
	if len(tags) > 50 {
		return nil, Errorf(400, "BadRequestException", "A resource can have at most 50 tags.")
	}
	return map[string]any{}, nil
}

func (s *Server) eksUntagResource(c *Call) (any, error) {
	tags, err := s.eksTaggable(c.Path["resourceArn"])
	if err != nil {
		return nil, err
	}
	for _, k := range c.Query["tagKeys"] {
		delete(tags, k)
	}
	return map[string]any{}, nil
}

func (s *Server) eksListTagsForResource(c *Call) (any, error) {
	tags, err := s.eksTaggable(c.Path["resourceArn"])
	if err != nil {
		return nil, err
	}
	return map[string]any{"tags": tags}, nil
}
