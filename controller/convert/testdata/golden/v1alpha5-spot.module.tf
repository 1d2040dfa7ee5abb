# converted from Provisioner default
# note: Provisioner default: spec: v1alpha5 had no disruption budgets: nodes: 100% keeps its behaviour (every empty node goes when due); lower it to limit disruptions at once
module "default" {
  source    = "../modules/node-pool"
  name      = "default"
  ami_alias = "al2023@latest"
  security_group_tags = {
    "karpenter.sh/discovery" = "my-cluster"
  }
  subnet_tags = {
    "karpenter.sh/discovery" = "my-cluster"
  }
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

