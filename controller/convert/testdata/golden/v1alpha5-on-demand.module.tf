# converted from Provisioner default
# note: Provisioner default: spec: v1alpha5 had no disruption budgets: nodes: 100% keeps its behaviour (every empty node goes when due); lower it to limit disruptions at once
module "default" {
  source    = "../modules/node-pool"
  name      = "default"
  ami_alias = "al2023@latest"
  security_group_tags = {
    "alpha.eksctl.io/cluster-name" = "my-cluster"
  }
  subnet_tags = {
    "alpha.eksctl.io/cluster-name" = "my-cluster"
  }
  tags = {
    IntentLabel             = "apps"
    KarpenerProvisionerName = "default"
    NodeType                = "karpenter-workshop"
  }
  instance_categories = null
  min_generation      = null
  architectures       = null
  budgets = [{
    nodes = "100%"
  }]
  capacity_types       = ["on-demand"]
  consolidate_after    = "30s"
  consolidation_policy = "WhenEmpty"
  expire_after         = "720h"
  extra_requirements = [{
    key      = "nodewright.dev/instance-size"
    operator = "NotIn"
    values   = ["nano", "micro", "small", "medium", "large"]
  }]
  labels = {
    intent = "apps"
  }
  limits = {
    cpu    = "1k"
    memory = "1000Gi"
  }
}

