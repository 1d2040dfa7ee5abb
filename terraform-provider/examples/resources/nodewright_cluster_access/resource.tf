# Clusters with access entries enabled (authentication mode API or
# API_AND_CONFIG_MAP): an EKS access entry of type EC2_LINUX.
resource "nodewright_cluster_access" "nodes" {
  mode         = "access_entry"
  cluster_name = "my-cluster"
  role_arn     = "arn:aws:iam::123456789012:role/nodewright-node-my-cluster"
}

# Clusters on the aws-auth ConfigMap: adds one mapRoles entry, leaving the
# others alone, and removes only that entry on destroy.
resource "nodewright_cluster_access" "legacy" {
  mode     = "aws_auth"
  role_arn = "arn:aws:iam::123456789012:role/nodewright-node-legacy"
}
