locals {
  create_node_iam           = var.create && var.create_node_iam
  create_interruption_queue = var.create && var.create_interruption_queue
  create_cluster_access     = var.create && var.create_cluster_access
  create_controller         = var.create && var.create_controller

  name           = "nodewright-${var.cluster_name}"
  node_role_name = local.create_node_iam ? nodewright_node_role.this[0].name : var.node_role_name
  node_role_arn  = local.create_node_iam ? nodewright_node_role.this[0].arn : var.node_role_arn
}

################################################################################
# Node IAM
################################################################################

resource "nodewright_node_role" "this" {
  count = local.create_node_iam ? 1 : 0

  name = "${local.name}-node"
  tags = var.tags
}

resource "nodewright_instance_profile" "this" {
  count = local.create_node_iam ? 1 : 0

  name = "${local.name}-node"
  role = nodewright_node_role.this[0].name
  tags = var.tags
}

################################################################################
# Interruption queue
################################################################################

resource "nodewright_interruption_queue" "this" {
  count = local.create_interruption_queue ? 1 : 0

  name         = local.name
  cluster_name = var.cluster_name
  tags         = var.tags
}

################################################################################
# Controller IAM
################################################################################

resource "nodewright_controller_iam" "this" {
  count = var.create ? 1 : 0

  name                   = "${local.name}-controller"
  cluster_name           = var.cluster_name
  node_role_arn          = local.node_role_arn
  interruption_queue_arn = try(nodewright_interruption_queue.this[0].queue_arn, null)
  ami_ssm_parameters     = length(var.ami_ssm_parameters) > 0 ? var.ami_ssm_parameters : null
  pod_identity           = var.controller_trust == "pod_identity"
  tags                   = var.tags

  dynamic "irsa" {
    for_each = var.controller_trust == "irsa" ? [1] : []
    content {
      oidc_provider_arn = var.oidc_provider_arn != "" ? var.oidc_provider_arn : try(nodewright_oidc_provider.this[0].arn, "")
      namespace         = var.namespace
      service_account   = "nodewright"
    }
  }
}

resource "nodewright_oidc_provider" "this" {
  count = var.create && var.controller_trust == "irsa" && var.oidc_provider_arn == "" && var.create_oidc_provider ? 1 : 0

  cluster_name = var.cluster_name
}

resource "nodewright_pod_identity_association" "controller" {
  count = var.create && var.controller_trust == "pod_identity" ? 1 : 0

  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = "nodewright"
  role_arn        = nodewright_controller_iam.this[0].arn
}

################################################################################
# Cluster access
################################################################################

resource "nodewright_cluster_access" "this" {
  count = local.create_cluster_access ? 1 : 0

  mode         = var.cluster_access_mode
  cluster_name = var.cluster_access_mode == "access_entry" ? var.cluster_name : null
  role_arn     = local.node_role_arn
}

################################################################################
# Controller
################################################################################

resource "nodewright_controller" "this" {
  count = local.create_controller ? 1 : 0

  cluster_name        = var.cluster_name
  cluster_endpoint    = var.cluster_endpoint == "" ? null : var.cluster_endpoint
  namespace           = var.namespace
  image               = var.controller_image == "" ? null : var.controller_image
  replicas            = var.controller_replicas
  interruption_queue  = try(nodewright_interruption_queue.this[0].name, null)
  controller_role_arn = var.controller_trust == "irsa" ? nodewright_controller_iam.this[0].arn : null
  pod_identity        = var.controller_trust == "pod_identity" && var.create
  env                 = length(var.controller_settings) > 0 ? var.controller_settings : null

  resources              = var.controller_resources
  priority_class_name    = var.controller_priority_class_name
  node_selector          = length(var.controller_node_selector) > 0 ? var.controller_node_selector : null
  tolerations            = var.controller_tolerations
  affinity_avoid_managed = var.controller_affinity_avoid_managed
  topology_spread        = var.controller_topology_spread
  pdb_max_unavailable    = var.controller_pdb_max_unavailable
  security_context       = var.controller_security_context
  metrics_port           = var.controller_metrics_port
  health_probe_port      = var.controller_health_probe_port
  metrics_service        = var.controller_metrics_service

  # The association exists before the controller starts, so its pod gets
  # the role from its first AWS call.
  depends_on = [nodewright_cluster_access.this, nodewright_pod_identity_association.controller]
}
