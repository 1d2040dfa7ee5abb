locals {
  discovery = { "nodewright.dev/discovery" = var.cluster_name }
}

################################################################################
# Node class
################################################################################

resource "nodewright_node_class" "this" {
  count = var.node_class == null ? 1 : 0

  name = var.name
  role = var.node_role_name
  tags = var.tags

  ami_selector_terms            = [{ alias = var.ami_alias }]
  subnet_selector_terms         = [{ tags = length(var.subnet_tags) > 0 ? var.subnet_tags : local.discovery }]
  security_group_selector_terms = [{ tags = length(var.security_group_tags) > 0 ? var.security_group_tags : local.discovery }]

  lifecycle {
    precondition {
      condition     = var.node_role_name != null
      error_message = "node_role_name is needed when the module makes the node class (node_class is null): pass the nodewright module's node_role_name output."
    }
    precondition {
      condition     = var.cluster_name != null || length(var.subnet_tags) > 0 && length(var.security_group_tags) > 0
      error_message = "cluster_name is needed to discover subnets and security groups unless both subnet_tags and security_group_tags are set."
    }
  }
}

# The class had no count before node_class existed.
moved {
  from = nodewright_node_class.this
  to   = nodewright_node_class.this[0]
}

################################################################################
# Node pool
################################################################################

resource "nodewright_node_pool" "this" {
  name       = var.name
  node_class = var.node_class != null ? var.node_class : nodewright_node_class.this[0].name
  labels     = var.labels
  taints     = var.taints
  weight     = var.weight
  limits     = var.limits

  annotations              = var.annotations
  startup_taints           = var.startup_taints
  termination_grace_period = var.termination_grace_period

  cost_per_node_hour = var.cost_per_node_hour
  karpenter_labels   = var.karpenter_labels

  requirements = concat(
    var.capacity_types == null ? [] : [{ key = "nodewright.dev/capacity-type", operator = "In", values = var.capacity_types }],
    var.instance_categories == null ? [] : [{ key = "nodewright.dev/instance-category", operator = "In", values = var.instance_categories }],
    var.min_generation == null ? [] : [{ key = "nodewright.dev/instance-generation", operator = "Gt", values = [tostring(var.min_generation)] }],
    var.architectures == null ? [] : [{ key = "kubernetes.io/arch", operator = "In", values = var.architectures }],
    var.extra_requirements,
  )

  expire_after = var.expire_after

  disruption = {
    consolidation_policy = var.consolidation_policy
    consolidate_after    = var.consolidate_after
    budgets              = var.budgets
  }
}
