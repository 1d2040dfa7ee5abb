################################################################################
# Cluster
################################################################################

variable "cluster_name" {
  description = "Name of the EKS cluster nodewright provisions nodes for."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be an EKS cluster name: 1-100 letters, digits, hyphens or underscores, starting with a letter or digit."
  }
}

variable "cluster_endpoint" {
  description = "API endpoint nodes join. Empty looks it up with eks:DescribeCluster."
  type        = string
  default     = ""

  validation {
    condition     = var.cluster_endpoint == "" || can(regex("^https://", var.cluster_endpoint))
    error_message = "cluster_endpoint must be an https:// URL, or empty to look it up."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider, for IRSA. Required when controller_trust is \"irsa\"."
  type        = string
  default     = ""
}

variable "create_oidc_provider" {
  description = "With controller_trust = \"irsa\" and no oidc_provider_arn: register the cluster's service-account issuer with IAM (nodewright_oidc_provider). Leave false when the account already has the cluster's provider."
  type        = bool
  default     = false
}

variable "controller_trust" {
  description = "How the controller assumes its IAM role: \"pod_identity\" (EKS Pod Identity) or \"irsa\" (IAM roles for service accounts)."
  type        = string
  default     = "pod_identity"

  validation {
    condition     = contains(["pod_identity", "irsa"], var.controller_trust)
    error_message = "controller_trust must be \"pod_identity\" or \"irsa\"."
  }
}

variable "ami_ssm_parameters" {
  description = "This account's SSM parameters (paths, * allowed) that node classes name in an AMI selector term's ssmParameter; the controller may read them. AWS's public parameters under /aws/service/ are always readable."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.ami_ssm_parameters : startswith(p, "/") && !startswith(p, "/aws/service/")])
    error_message = "Each ami_ssm_parameters entry must start with / and must not be under /aws/service/ (always readable)."
  }
}

variable "cluster_access_mode" {
  description = "How the node role is mapped into the cluster: \"access_entry\" (an EKS access entry of type EC2_LINUX) or \"aws_auth\" (the aws-auth ConfigMap)."
  type        = string
  default     = "access_entry"

  validation {
    condition     = contains(["access_entry", "aws_auth"], var.cluster_access_mode)
    error_message = "cluster_access_mode must be \"access_entry\" or \"aws_auth\"."
  }
}

################################################################################
# Controller
################################################################################

variable "namespace" {
  description = "Namespace the controller runs in."
  type        = string
  default     = "nodewright"
}

variable "controller_image" {
  description = "Controller image. Empty uses the provider's matching release."
  type        = string
  default     = ""
}

variable "controller_replicas" {
  description = "Controller replicas; leader election makes more than one safe."
  type        = number
  default     = 2

  validation {
    condition     = var.controller_replicas >= 1 && var.controller_replicas <= 5
    error_message = "controller_replicas must be between 1 and 5."
  }
}

variable "controller_settings" {
  description = "Extra controller settings as environment variables, e.g. { REBALANCE_POLICY = \"Cordon\", DISRUPTION_VALIDATION_DELAY = \"30s\", INTERRUPTION_DRAIN_FRACTION = \"0.5\", LOG_LEVEL = \"debug\" }. They override what the module sets."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.controller_settings) : can(regex("^[A-Z][A-Z0-9_]*$", k))])
    error_message = "controller_settings keys are environment variable names: upper case letters, digits and underscores, like REBALANCE_POLICY."
  }
}

################################################################################
# Toggles and tags
################################################################################

variable "create" {
  description = "Create anything at all."
  type        = bool
  default     = true
}

variable "create_node_iam" {
  description = "Create the node IAM role and instance profile."
  type        = bool
  default     = true
}

variable "create_interruption_queue" {
  description = "Create the SQS interruption queue and its EventBridge rules."
  type        = bool
  default     = true
}

variable "create_cluster_access" {
  description = "Map the node role into the cluster."
  type        = bool
  default     = true
}

variable "create_controller" {
  description = "Deploy the controller (and its CRDs)."
  type        = bool
  default     = true
}

variable "node_role_name" {
  description = "Name of an existing node role to use when create_node_iam is false."
  type        = string
  default     = ""
}

variable "node_role_arn" {
  description = "ARN of the existing node role named by node_role_name, when create_node_iam is false."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags for every AWS resource the module creates."
  type        = map(string)
  default     = {}
}
