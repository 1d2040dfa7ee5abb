# converted from EC2NodeClass karpenter-nodeclass-al2023
# note: EC2NodeClass karpenter-nodeclass-al2023: metadata.namespace: NodePools and EC2NodeClasses are cluster-scoped; the namespace is dropped
# note: EC2NodeClass karpenter-nodeclass-al2023: spec.amiFamily: became amiSelectorTerms alias al2023@latest: nodes take the newest AMI, as the family did
resource "nodewright_node_class" "karpenter_nodeclass_al2023" {
  name = "karpenter-nodeclass-al2023"
  ami_selector_terms = [{
    alias = "al2023@latest"
  }]
  block_device_mappings = [{
    device_name = "/dev/xvda"
    ebs = {
      delete_on_termination = true
      iops                  = 3000
      volume_size           = "30Gi"
      volume_type           = "gp3"
    }
  }]
  metadata_options = {
    http_endpoint               = "enabled"
    http_put_response_hop_limit = 2
    http_tokens                 = "required"
  }
  role = "shop-eks-worker-role"
  security_group_selector_terms = [{
    tags = {
      "karpenter.sh/discovery" = "my-cluster"
    }
  }]
  subnet_selector_terms = [{
    tags = {
      "karpenter.sh/discovery" = "my-cluster"
    }
  }]
  tags = {
    Name = "shop-karpenter-worker-node"
  }
}

# converted from NodePool karpenter-nodepool
# note: NodePool karpenter-nodepool: metadata.namespace: NodePools and EC2NodeClasses are cluster-scoped; the namespace is dropped
resource "nodewright_node_pool" "karpenter_nodepool" {
  name       = "karpenter-nodepool"
  node_class = nodewright_node_class.karpenter_nodeclass_al2023.name
  disruption = {
    consolidate_after    = "1m"
    consolidation_policy = "WhenEmptyOrUnderutilized"
  }
  expire_after = "Never"
  requirements = [{
    key      = "nodewright.dev/instance-category"
    operator = "In"
    values   = ["c", "m", "r"]
    }, {
    key      = "nodewright.dev/instance-cpu"
    operator = "In"
    values   = ["4", "8", "16", "32"]
    }, {
    key      = "kubernetes.io/arch"
    operator = "In"
    values   = ["arm64", "amd64"]
    }, {
    key      = "nodewright.dev/capacity-type"
    operator = "In"
    values   = ["spot"]
  }]
}

