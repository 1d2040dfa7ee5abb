locals {
  discovery = { "nodewright.dev/discovery" = var.cluster_name }
}

################################################################################
# Node class
################################################################################

resource "nodewright_node_class" "this" {
  name = var.name
  role = var.node_role_name
  tags = var.tags

  ami_selector_terms            = [{ alias = var.ami_alias }]
  subnet_selector_terms         = [{ tags = length(var.subnet_tags) > 0 ? var.subnet_tags : local.discovery }]
  security_group_selector_terms = [{ tags = length(var.security_group_tags) > 0 ? var.security_group_tags : local.discovery }]
}

################################################################################
# Node pool
################################################################################

resource "nodewright_node_pool" "this" {
  name       = var.name
  node_class = nodewright_node_class.this.name
  labels     = var.labels
  taints     = var.taints
  weight     = var.weight
  limits     = var.limits

  cost_per_node_hour = var.cost_per_node_hour

  requirements = concat([
    { key = "nodewright.dev/capacity-type", operator = "In", values = var.capacity_types },
    { key = "nodewright.dev/instance-category", operator = "In", values = var.instance_categories },
    { key = "nodewright.dev/instance-generation", operator = "Gt", values = [tostring(var.min_generation)] },
    { key = "kubernetes.io/arch", operator = "In", values = var.architectures },
  ], var.extra_requirements)

  expire_after = var.expire_after

  disruption = {
    consolidation_policy = var.consolidation_policy
    consolidate_after    = var.consolidate_after
    budgets              = var.budgets
  }
}
