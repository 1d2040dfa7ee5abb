# Two NodePools: spot first (weight 50), on-demand as the fallback when spot
# has no capacity or the spot pool's limit is reached.

terraform {
  required_version = ">= 1.5"
  required_providers {
    nodewright = {
      source  = "nodewright/nodewright"
      version = ">= 0.1.0"
    }
  }
}

variable "cluster_name" {
  description = "EKS cluster name."
  type        = string
}

variable "node_role_name" {
  description = "Node IAM role (the nodewright module's node_role_name output)."
  type        = string
}

module "spot" {
  source = "../../modules/node-pool"

  name           = "spot"
  cluster_name   = var.cluster_name
  node_role_name = var.node_role_name
  capacity_types = ["spot"]
  weight         = 50
  limits         = { cpu = "500" }
}

module "on_demand" {
  source = "../../modules/node-pool"

  name           = "on-demand"
  cluster_name   = var.cluster_name
  node_role_name = var.node_role_name
  capacity_types = ["on-demand"]
  weight         = 10
}
