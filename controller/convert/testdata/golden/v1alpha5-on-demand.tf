# converted from AWSNodeTemplate default
# note: AWSNodeTemplate default: spec.amiFamily: not set: v1alpha1 defaulted to AL2
# lossy: AWSNodeTemplate default: spec.amiFamily: AL2 became AL2023 (alias al2023@latest): EKS publishes no AL2 AMIs from Kubernetes 1.33; AL2 user data (bootstrap.sh) must be rewritten for nodeadm
# lossy: AWSNodeTemplate default: spec.role: neither role nor instanceProfile is given (Karpenter took the instance profile from its settings); set one, or pass --role
resource "nodewright_node_class" "default" {
  name = "default"
  ami_selector_terms = [{
    alias = "al2023@latest"
  }]
  security_group_selector_terms = [{
    tags = {
      "alpha.eksctl.io/cluster-name" = "my-cluster"
    }
  }]
  subnet_selector_terms = [{
    tags = {
      "alpha.eksctl.io/cluster-name" = "my-cluster"
    }
  }]
  tags = {
    IntentLabel             = "apps"
    KarpenerProvisionerName = "default"
    NodeType                = "karpenter-workshop"
  }
}

# converted from Provisioner default
# note: Provisioner default: spec: v1alpha5 had no disruption budgets: nodes: 100% keeps its behaviour (every empty node goes when due); lower it to limit disruptions at once
resource "nodewright_node_pool" "default" {
  name       = "default"
  node_class = nodewright_node_class.default.name
  disruption = {
    budgets = [{
      nodes = "100%"
    }]
    consolidate_after    = "30s"
    consolidation_policy = "WhenEmpty"
  }
  expire_after = "720h"
  labels = {
    intent = "apps"
  }
  limits = {
    cpu    = "1k"
    memory = "1000Gi"
  }
  requirements = [{
    key      = "nodewright.dev/capacity-type"
    operator = "In"
    values   = ["on-demand"]
    }, {
    key      = "nodewright.dev/instance-size"
    operator = "NotIn"
    values   = ["nano", "micro", "small", "medium", "large"]
  }]
}

