package awscli

import "testing"

// EKS speaks REST-JSON: the operation is the method and path, and path
// parameters such as an access entry's principal ARN travel URL-encoded.

func TestEKS(t *testing.T) { runScenarios(t, eksScenarios) }

const (
	clusterARN = "arn:aws:eks:us-east-1:111122223333:cluster/localcloud"
	nodeRole   = "arn:aws:iam::111122223333:role/awscli-node"
	podRole    = "arn:aws:iam::111122223333:role/awscli-pod"
)

var eksScenarios = []scenario{
	{name: "cluster", steps: []step{
		{service: "eks", op: "ListClusters", want: []check{count("clusters", 1), eq("clusters.0", "localcloud")}},
		{service: "eks", op: "DescribeCluster", args: []string{"--name", "localcloud"},
			want: []check{eq("cluster.name", "localcloud"), eq("cluster.arn", clusterARN), eq("cluster.status", "ACTIVE"), eq("cluster.version", "1.37")}},
		{service: "eks", op: "TagResource", args: []string{"--resource-arn", clusterARN, "--tags", "team=cli,env=test"}},
		{service: "eks", op: "ListTagsForResource", args: []string{"--resource-arn", clusterARN},
			want: []check{eq("tags.team", "cli"), eq("tags.env", "test")}},
		{service: "eks", op: "UntagResource", args: []string{"--resource-arn", clusterARN, "--tag-keys", "team"}},
		{name: "ListTagsForResource after UntagResource", service: "eks", op: "ListTagsForResource", args: []string{"--resource-arn", clusterARN},
			want: []check{count("tags", 1), eq("tags.env", "test")}},
	}},
	{name: "access entry", steps: []step{
		{service: "iam", op: "CreateRole", args: []string{"--role-name", "awscli-node", "--assume-role-policy-document", ec2Trust},
			want: []check{eq("Role.Arn", nodeRole)}},
		{service: "eks", op: "CreateAccessEntry", args: []string{"--cluster-name", "localcloud", "--principal-arn", nodeRole,
			"--kubernetes-groups", "awscli-group", "--username", "awscli", "--tags", "team=cli"},
			want: []check{eq("accessEntry.principalArn", nodeRole), eq("accessEntry.clusterName", "localcloud"), eq("accessEntry.type", "STANDARD"),
				eq("accessEntry.username", "awscli"), eq("accessEntry.kubernetesGroups.0", "awscli-group"),
				matches("accessEntry.accessEntryArn", `^arn:aws:eks:us-east-1:111122223333:access-entry/localcloud/role/111122223333/awscli-node/`)}},
		{service: "eks", op: "ListAccessEntries", args: []string{"--cluster-name", "localcloud"},
			want: []check{some("accessEntries.*", nodeRole)}},
		// The principal ARN is a path parameter: botocore encodes its : and /.
		{service: "eks", op: "DescribeAccessEntry", args: []string{"--cluster-name", "localcloud", "--principal-arn", nodeRole},
			want: []check{eq("accessEntry.principalArn", nodeRole), eq("accessEntry.tags.team", "cli")}},
		{service: "eks", op: "UpdateAccessEntry", args: []string{"--cluster-name", "localcloud", "--principal-arn", nodeRole, "--kubernetes-groups", "g1", "g2"},
			want: []check{count("accessEntry.kubernetesGroups", 2), eq("accessEntry.kubernetesGroups.1", "g2"), eq("accessEntry.username", "awscli")}},
		{service: "eks", op: "DeleteAccessEntry", args: []string{"--cluster-name", "localcloud", "--principal-arn", nodeRole}},
		{name: "DescribeAccessEntry after DeleteAccessEntry", service: "eks", op: "DescribeAccessEntry",
			args: []string{"--cluster-name", "localcloud", "--principal-arn", nodeRole}, err: "ResourceNotFoundException"},
	}},
	{name: "pod identity association", steps: []step{
		{service: "iam", op: "CreateRole", args: []string{"--role-name", "awscli-pod", "--assume-role-policy-document", podTrust},
			want: []check{eq("Role.Arn", podRole)}},
		{service: "eks", op: "CreatePodIdentityAssociation", args: []string{"--cluster-name", "localcloud", "--namespace", "kube-system",
			"--service-account", "nodewright", "--role-arn", podRole, "--tags", "team=cli"},
			want: []check{eq("association.clusterName", "localcloud"), eq("association.namespace", "kube-system"), eq("association.serviceAccount", "nodewright"),
				eq("association.roleArn", podRole), matches("association.associationId", `^a-[0-9a-z]+$`), eq("association.tags.team", "cli")},
			save: map[string]string{"association": "association.associationId", "associationArn": "association.associationArn"}},
		{service: "eks", op: "ListPodIdentityAssociations", args: []string{"--cluster-name", "localcloud", "--namespace", "kube-system"},
			want: []check{count("associations", 1), eq("associations.0.associationId", "{association}"), eq("associations.0.serviceAccount", "nodewright")}},
		{service: "eks", op: "DescribePodIdentityAssociation", args: []string{"--cluster-name", "localcloud", "--association-id", "{association}"},
			want: []check{eq("association.associationArn", "{associationArn}"), eq("association.roleArn", podRole)}},
		{name: "CreatePodIdentityAssociation again", service: "eks", op: "CreatePodIdentityAssociation", args: []string{"--cluster-name", "localcloud",
			"--namespace", "kube-system", "--service-account", "nodewright", "--role-arn", podRole}, err: "ResourceInUseException"},
		{service: "eks", op: "DeletePodIdentityAssociation", args: []string{"--cluster-name", "localcloud", "--association-id", "{association}"},
			want: []check{eq("association.associationId", "{association}")}},
		{name: "ListPodIdentityAssociations after DeletePodIdentityAssociation", service: "eks", op: "ListPodIdentityAssociations",
			args: []string{"--cluster-name", "localcloud"}, want: []check{count("associations", 0)}},
	}},
}
