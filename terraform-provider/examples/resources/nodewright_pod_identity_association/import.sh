# <cluster_name>/<association_id>
terraform import nodewright_pod_identity_association.controller prod/a-0123456789abcdefg
