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
  description = "Controller image. Empty uses the image released with the provider, by digest; set it to your registry's mirror of that image (repo@sha256:...)."
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

variable "controller_resources" {
  description = "Requests and limits of the controller container; an attribute left out keeps the provider's default (500m CPU and 512Mi memory requested, a 512Mi memory limit, no CPU limit). An empty string sets none."
  type = object({
    cpu_request    = optional(string)
    memory_request = optional(string)
    cpu_limit      = optional(string)
    memory_limit   = optional(string)
  })
  default = null
}

variable "controller_priority_class_name" {
  description = "Priority class of the controller pods, so the workloads they provision for never preempt them."
  type        = string
  default     = "system-cluster-critical"
}

variable "controller_node_selector" {
  description = "Node selector of the controller pods, e.g. { \"eks.amazonaws.com/nodegroup\" = \"system\" }."
  type        = map(string)
  default     = {}
}

variable "controller_tolerations" {
  description = "Tolerations of the controller pods. Null keeps the provider's default, which tolerates CriticalAddonsOnly (EKS system node groups)."
  type = list(object({
    key      = optional(string, "")
    operator = optional(string, "Equal")
    value    = optional(string, "")
    effect   = optional(string, "")
  }))
  default = null

  validation {
    condition     = var.controller_tolerations == null || alltrue([for t in coalesce(var.controller_tolerations, []) : contains(["Exists", "Equal"], t.operator) && contains(["", "NoSchedule", "PreferNoSchedule", "NoExecute"], t.effect)])
    error_message = "Each toleration's operator must be Exists or Equal, and its effect empty, NoSchedule, PreferNoSchedule or NoExecute."
  }
}

variable "controller_affinity_avoid_managed" {
  description = "Keep the controller off the nodes it manages (and could drain) with a required node affinity."
  type        = bool
  default     = true
}

variable "controller_topology_spread" {
  description = "Topology spread constraints of the controller replicas. Null keeps the provider's default: hosts (kubernetes.io/hostname) with DoNotSchedule and zones (topology.kubernetes.io/zone) with ScheduleAnyway, maxSkew 1, which still schedules every replica on a single system node. An empty list spreads nothing."
  type = list(object({
    topology_key       = string
    max_skew           = optional(number, 1)
    when_unsatisfiable = optional(string, "DoNotSchedule")
  }))
  default = null

  validation {
    condition     = var.controller_topology_spread == null || alltrue([for c in coalesce(var.controller_topology_spread, []) : c.max_skew >= 1 && contains(["DoNotSchedule", "ScheduleAnyway"], c.when_unsatisfiable)])
    error_message = "Each constraint needs max_skew of at least 1 and when_unsatisfiable DoNotSchedule or ScheduleAnyway."
  }
}

variable "controller_pdb_max_unavailable" {
  description = "maxUnavailable of the controller's PodDisruptionBudget: how many replicas a node drain may evict at once. 0 creates no PodDisruptionBudget."
  type        = number
  default     = 1

  validation {
    condition     = var.controller_pdb_max_unavailable >= 0 && var.controller_pdb_max_unavailable <= 10 && floor(var.controller_pdb_max_unavailable) == var.controller_pdb_max_unavailable
    error_message = "controller_pdb_max_unavailable must be a whole number between 0 and 10."
  }
}

variable "controller_security_context" {
  description = "Run the controller under the restricted Pod Security Standard: non-root user 65532, RuntimeDefault seccomp, read-only root filesystem, no privilege escalation, no capabilities."
  type        = bool
  default     = true
}

variable "controller_metrics_port" {
  description = "Prometheus metrics port of the controller; 0 turns metrics (and the metrics Service) off."
  type        = number
  default     = 8080

  validation {
    condition     = var.controller_metrics_port >= 0 && var.controller_metrics_port <= 65535 && floor(var.controller_metrics_port) == var.controller_metrics_port
    error_message = "controller_metrics_port must be a port number, or 0."
  }
}

variable "controller_health_probe_port" {
  description = "Port of the controller's /healthz and /readyz, which its liveness and readiness probes use; 0 turns the probes off."
  type        = number
  default     = 8081

  validation {
    condition     = var.controller_health_probe_port >= 0 && var.controller_health_probe_port <= 65535 && floor(var.controller_health_probe_port) == var.controller_health_probe_port
    error_message = "controller_health_probe_port must be a port number, or 0."
  }
}

variable "controller_metrics_service" {
  description = "Create the ClusterIP Service nodewright-metrics (port named metrics) in front of the metrics port."
  type        = bool
  default     = true
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
