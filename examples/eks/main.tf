# nodewright on an existing EKS cluster, looked up by name, with IRSA for
# the controller. The provider mints its own EKS token from AWS credentials.

terraform {
  required_version = ">= 1.5"
  required_providers {
    nodewright = {
      source  = "nodewright/nodewright"
      version = ">= 0.1.0"
    }
  }
}

variable "region" {
  description = "AWS region of the cluster."
  type        = string
  default     = "us-east-1"
}

variable "cluster_name" {
  description = "Name of the existing EKS cluster."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (for IRSA)."
  type        = string
}

provider "nodewright" {
  region = var.region
  kubernetes {
    eks_cluster_name = var.cluster_name
  }
}

module "nodewright" {
  source = "../../modules/nodewright"

  cluster_name      = var.cluster_name
  controller_trust  = "irsa"
  oidc_provider_arn = var.oidc_provider_arn
}

module "default_pool" {
  source = "../../modules/node-pool"

  name           = "default"
  cluster_name   = var.cluster_name
  node_role_name = module.nodewright.node_role_name

  depends_on = [module.nodewright]
}
