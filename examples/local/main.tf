# The embedded default: the whole bundle and a default NodePool on the
# local cloud (`make local-up`). `make demo` applies this example.

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
  description = "The local cloud's EKS cluster name (CLUSTER_NAME in .localcloud/env)."
  type        = string
  default     = "localcloud"
}

variable "kubeconfig" {
  description = "Kubeconfig of the local cloud (KUBECONFIG in .localcloud/env)."
  type        = string
}

variable "controller_image" {
  description = "Controller image (NODEWRIGHT_CONTROLLER_IMAGE in .localcloud/env: the image `make image` built, pushed by digest to the local cloud's registry). Empty uses the provider's default image."
  type        = string
  default     = ""
}

variable "controller_trust" {
  description = "How the controller gets its role: \"pod_identity\" (the default) or \"irsa\", which needs oidc_provider_arn."
  type        = string
  default     = "pod_identity"
}

variable "oidc_provider_arn" {
  description = "The cluster's IAM OIDC provider, for controller_trust = \"irsa\"; empty registers the cluster's issuer."
  type        = string
  default     = ""
}

variable "extra_requirements" {
  description = "More requirements for the default NodePool."
  type = list(object({
    key        = string
    operator   = string
    values     = optional(list(string))
    min_values = optional(number)
  }))
  default = []
}

# AWS_ENDPOINT_URL, AWS_REGION and the static credentials in .localcloud/env
# point the provider at the local AWS endpoint.
provider "nodewright" {
  kubernetes {
    config_path = var.kubeconfig
  }
}

module "nodewright" {
  source = "../../modules/nodewright"

  cluster_name     = var.cluster_name
  controller_image = var.controller_image
  # One replica: on the local cloud every pod of the system node shares its
  # network, so a second replica could not bind the metrics and health ports.
  controller_replicas  = 1
  controller_trust     = var.controller_trust
  oidc_provider_arn    = var.oidc_provider_arn
  create_oidc_provider = var.controller_trust == "irsa" && var.oidc_provider_arn == ""
}

module "default_pool" {
  source = "../../modules/node-pool"

  name               = "default"
  cluster_name       = var.cluster_name
  node_role_name     = module.nodewright.node_role_name
  consolidate_after  = "30s"
  extra_requirements = var.extra_requirements
  # What each node costs beyond its instance and root volume: per-host
  # agents (a monitoring licence of about $7 a month, say). Without it the
  # cheapest plan for the walkthrough's ten pods is, at some hours of spot
  # prices, four small nodes a few cents cheaper than two.
  cost_per_node_hour = "0.01"
  # The demo removes its empty nodes together; the module's default budget
  # (10%) would take them one at a time.
  budgets = [{ nodes = "100%" }]

  depends_on = [module.nodewright]
}

output "queue_url" {
  value = module.nodewright.queue_url
}
