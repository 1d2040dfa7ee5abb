# converted from Provisioner default
# note: Provisioner default: spec: v1alpha5 had no disruption budgets: nodes: 100% keeps its behaviour (every empty node goes when due); lower it to limit disruptions at once
# note: Provisioner default: spec.provider.amiFamily: not set: v1alpha1 defaulted to AL2
# lossy: Provisioner default: spec.provider.amiFamily: AL2 became AL2023 (alias al2023@latest): EKS publishes no AL2 AMIs from Kubernetes 1.33; AL2 user data (bootstrap.sh) must be rewritten for nodeadm
# note: Provisioner default: spec.provider: became EC2NodeClass default
resource "nodewright_node_class" "default" {
  name = "default"
  ami_selector_terms = [{
    alias = "al2023@latest"
  }]
  instance_profile = "KarpenterNodeInstanceProfile-my-cluster"
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
}

# converted from Provisioner default
# note: Provisioner default: spec: v1alpha5 had no disruption budgets: nodes: 100% keeps its behaviour (every empty node goes when due); lower it to limit disruptions at once
# note: Provisioner default: spec.provider.amiFamily: not set: v1alpha1 defaulted to AL2
# lossy: Provisioner default: spec.provider.amiFamily: AL2 became AL2023 (alias al2023@latest): EKS publishes no AL2 AMIs from Kubernetes 1.33; AL2 user data (bootstrap.sh) must be rewritten for nodeadm
# note: Provisioner default: spec.provider: became EC2NodeClass default
module "default" {
  source              = "../modules/node-pool"
  name                = "default"
  node_class          = nodewright_node_class.default.name
  instance_categories = null
  min_generation      = null
  architectures       = null
  budgets = [{
    nodes = "100%"
  }]
  capacity_types       = ["spot"]
  consolidate_after    = "30s"
  consolidation_policy = "WhenEmpty"
  expire_after         = "Never"
  limits = {
    cpu = "1k"
  }
}

