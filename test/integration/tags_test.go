package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	v1 "github.com/nodewright/nodewright/controller/api/v1"
	"github.com/nodewright/nodewright/test/kubetest"
)

// launchedTags is what the AWS endpoint recorded of an instance's launch:
// the tags its volumes and its network interface were created with. The
// emulator keeps them from the launch's TagSpecifications but serves no
// DescribeVolumes or DescribeNetworkInterfaces, so they are read from its
// world.
func (e *env) launchedTags(ctx context.Context, id string) (volume, eni map[string]string) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.cloud.AWSEndpoint()+"/_localcloud/world", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var world struct {
		EC2 struct {
			VolumeTags map[string]map[string]string `json:"volumeTags"`
			Launches   map[string]struct {
				ENITags map[string]string `json:"eniTags"`
			} `json:"launches"`
		} `json:"ec2"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&world); err != nil {
		e.t.Fatalf("reading the AWS endpoint's world: %v", err)
	}
	return world.EC2.VolumeTags[id], world.EC2.Launches[id].ENITags
}

func tagMap(tags []ec2types.Tag) map[string]string {
	out := map[string]string{}
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// missing lists the tags of want that got lacks or has with another value.
func missing(want, got map[string]string) []string {
	var out []string
	for k, v := range want {
		if got[k] != v {
			out = append(out, fmt.Sprintf("%s=%s (has %q)", k, v, got[k]))
		}
	}
	return out
}

// TestUserTagsReachEveryResource: the EC2NodeClass's tags are on the
// instance, its volumes, its network interface and the launch template,
// beside the cluster's ownership tags.
func TestUserTagsReachEveryResource(t *testing.T) {
	e := newEnv(t, defaultNodePool)
	ctx := context.Background()
	user := map[string]string{"team": "payments", "cost-center": "cc-42"}
	nc := &v1.EC2NodeClass{}
	nc.Name = "default"
	if err := kubetest.Update(ctx, e.kube, nc, func(nc *v1.EC2NodeClass) { nc.Spec.Tags = user }); err != nil {
		t.Fatal(err)
	}
	e.deploy("inflate", 1, "1", 0)

	claims := e.nodeClaims(ctx)
	if len(claims) != 1 {
		t.Fatalf("%d NodeClaims for one pod", len(claims))
	}
	id := path.Base(claims[0].Status.ProviderID)
	want := map[string]string{"kubernetes.io/cluster/" + e.cloud.ClusterName(): "owned", v1.EC2NodeClassTagKey: "default"}
	for k, v := range user {
		want[k] = v
	}

	out, err := e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("describing instance %s: %v", id, err)
	}
	if m := missing(want, tagMap(out.Reservations[0].Instances[0].Tags)); len(m) > 0 {
		t.Errorf("instance %s lacks tags %v", id, m)
	}
	volume, eni := e.launchedTags(ctx, id)
	if m := missing(want, volume); len(m) > 0 {
		t.Errorf("volumes of instance %s lack tags %v", id, m)
	}
	if m := missing(want, eni); len(m) > 0 {
		t.Errorf("network interface of instance %s lacks tags %v", id, m)
	}
	lts, err := e.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lts.LaunchTemplates) == 0 {
		t.Fatal("no launch template")
	}
	for _, lt := range lts.LaunchTemplates {
		if m := missing(want, tagMap(lt.Tags)); len(m) > 0 {
			t.Errorf("launch template %s lacks tags %v", aws.ToString(lt.LaunchTemplateName), m)
		}
	}
}
