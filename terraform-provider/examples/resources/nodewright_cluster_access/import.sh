# An access entry is imported as access_entry/<cluster name>/<role arn>.
terraform import nodewright_cluster_access.nodes access_entry/my-cluster/arn:aws:iam::123456789012:role/nodewright-node-my-cluster

# An aws-auth mapping is imported as aws_auth/<role arn>.
terraform import nodewright_cluster_access.legacy aws_auth/arn:aws:iam::123456789012:role/nodewright-node-legacy
