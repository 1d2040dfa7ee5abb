package awsemu

import (
	"sort"
	"strings"
)

func (a *EKSPodIdentityAssociation) json(cluster string) map[string]any {
	return map[string]any{
		"clusterName":        cluster,
		"namespace":          a.Namespace,
		"serviceAccount":     a.ServiceAccount,
		"roleArn":            a.RoleARN,
		"associationArn":     a.ARN,
		"associationId":      a.ID,
		"tags":               a.Tags,
		"createdAt":          epoch(a.CreatedAt),
		"modifiedAt":         epoch(a.ModifiedAt),
		"disableSessionTags": false,
	}
}

func (s *Server) eksCreatePodIdentityAssociation(c *Call) (any, error) {
	cluster := c.Path["clusterName"]
	if err := s.cluster(cluster); err != nil {
		return nil, err
	}
	var in struct {
		Namespace      string            `json:"namespace"`
		ServiceAccount string            `json:"serviceAccount"`
		RoleArn        string            `json:"roleArn"`
		Tags           map[string]string `json:"tags"`
	}
	if err := c.Decode(&in); err != nil {
		return nil, err
	}
	for field, v := range map[string]string{"namespace": in.Namespace, "serviceAccount": in.ServiceAccount, "roleArn": in.RoleArn} {
		if v == "" {
			return nil, errEKSInvalidParameter("%s is required.", field)
		}
	}
	if s.world.IAM.RoleByARN(in.RoleArn) == nil {
		return nil, errEKSInvalidParameter("Role %s does not exist.", in.RoleArn)
	}
	st := s.world.EKS
	for _, a := range st.PodIdentityAssociations {
		if a.Namespace == in.Namespace && a.ServiceAccount == in.ServiceAccount {
			return nil, Errorf(409, "ResourceInUseException", "Association already exists: %s", a.ID)
		}
	}
	if in.Tags == nil {
		in.Tags = map[string]string{}
	}
	id := "a-" + strings.ToLower(stsRandom("abcdefghijklmnopqrstuvwxyz0123456789", 17))
	now := s.clock.Now().UTC()
	a := &EKSPodIdentityAssociation{
		ID: id, ARN: "arn:aws:eks:" + s.world.Region + ":" + AccountID + ":podidentityassociation/" + cluster + "/" + id,
		Namespace: in.Namespace, ServiceAccount: in.ServiceAccount, RoleARN: in.RoleArn, Tags: in.Tags,
		CreatedAt: now, ModifiedAt: now,
	}
	st.PodIdentityAssociations[id] = a
	return map[string]any{"association": a.json(cluster)}, nil
}

func (s *Server) podIdentityAssociation(c *Call) (*EKSPodIdentityAssociation, *Error) {
	if err := s.cluster(c.Path["clusterName"]); err != nil {
		return nil, err
	}
	a := s.world.EKS.PodIdentityAssociations[c.Path["associationId"]]
	if a == nil {
		return nil, errEKSNotFound("Association %s not found.", c.Path["associationId"])
	}
	return a, nil
}

func (s *Server) eksDescribePodIdentityAssociation(c *Call) (any, error) {
	a, err := s.podIdentityAssociation(c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"association": a.json(c.Path["clusterName"])}, nil
}

func (s *Server) eksDeletePodIdentityAssociation(c *Call) (any, error) {
	a, err := s.podIdentityAssociation(c)
	if err != nil {
		return nil, err
	}
	delete(s.world.EKS.PodIdentityAssociations, a.ID)
	return map[string]any{"association": a.json(c.Path["clusterName"])}, nil
}

func (s *Server) eksListPodIdentityAssociations(c *Call) (any, error) {
	cluster := c.Path["clusterName"]
	if err := s.cluster(cluster); err != nil {
		return nil, err
	}
	ns, sa := c.Query.Get("namespace"), c.Query.Get("serviceAccount")
	var picked []*EKSPodIdentityAssociation
	for _, a := range s.world.EKS.PodIdentityAssociations {
		if (ns == "" || a.Namespace == ns) && (sa == "" || a.ServiceAccount == sa) {
			picked = append(picked, a)
		}
	}
	sort.Slice(picked, func(i, j int) bool {
		if picked[i].Namespace != picked[j].Namespace {
			return picked[i].Namespace < picked[j].Namespace
		}
		return picked[i].ServiceAccount < picked[j].ServiceAccount
	})
	page, next, err := eksPage(c, picked, 100, 100)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(page))
	for _, a := range page {
		out = append(out, map[string]any{
			"clusterName": cluster, "namespace": a.Namespace, "serviceAccount": a.ServiceAccount,
			"associationArn": a.ARN, "associationId": a.ID,
		})
	}
	return map[string]any{"associations": out, "nextToken": omitEmpty(next)}, nil
}
