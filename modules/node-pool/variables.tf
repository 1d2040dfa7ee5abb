################################################################################
# Identity
################################################################################

variable "name" {
  description = "Name of the NodePool and of its EC2NodeClass."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.name))
    error_message = "name must be a DNS label: lowercase letters, digits and hyphens, at most 63 characters."
  }
}

variable "cluster_name" {
  description = "EKS cluster name: subnets and security groups are discovered by the nodewright.dev/discovery=<cluster_name> tag. Needed unless node_class is set or both subnet_tags and security_group_tags are."
  type        = string
  default     = null
}

variable "node_role_name" {
  description = "IAM role nodes run with (the nodewright module's node_role_name output). Needed unless node_class is set."
  type        = string
  default     = null
}

variable "node_class" {
  description = "Name of an existing EC2NodeClass for the pool, such as a nodewright_node_class declared beside the module for what its variables cannot say (block devices, user data, AMI IDs). null: the module makes one named name from the node class variables below, which are then ignored."
  type        = string
  default     = null
}

################################################################################
# Node class
################################################################################

variable "ami_alias" {
  description = "AMI alias, e.g. al2023@latest or bottlerocket@latest."
  type        = string
  default     = "al2023@latest"

  validation {
    condition     = can(regex("^(al2023|bottlerocket)@(latest|v[0-9]+(\\.[0-9]+)*)$", var.ami_alias))
    error_message = "ami_alias must look like al2023@latest, bottlerocket@latest or al2023@v20261101."
  }
}

variable "subnet_tags" {
  description = "Tags that select the subnets. Empty uses nodewright.dev/discovery=<cluster_name>."
  type        = map(string)
  default     = {}
}

variable "security_group_tags" {
  description = "Tags that select the security groups. Empty uses nodewright.dev/discovery=<cluster_name>."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags for the instances, volumes and launch templates."
  type        = map(string)
  default     = {}
}

################################################################################
# Node pool
################################################################################

variable "capacity_types" {
  description = "Capacity types the pool may buy: spot, on-demand or both (spot is preferred when cheaper). null puts no requirement on the capacity type."
  type        = list(string)
  default     = ["spot", "on-demand"]

  validation {
    condition     = var.capacity_types == null ? true : length(var.capacity_types) > 0 && alltrue([for c in var.capacity_types : contains(["spot", "on-demand"], c)])
    error_message = "capacity_types must list spot and/or on-demand, or be null."
  }
}

variable "instance_categories" {
  description = "Instance categories (c, m, r, ...). null puts no requirement on the category."
  type        = list(string)
  default     = ["c", "m", "r"]
}

variable "min_generation" {
  description = "Instance generations above this are allowed. null puts no requirement on the generation."
  type        = number
  default     = 2
}

variable "architectures" {
  description = "CPU architectures. null puts no requirement on the architecture."
  type        = list(string)
  default     = ["amd64", "arm64"]
}

variable "extra_requirements" {
  description = "More requirements, each {key, operator, values, min_values}."
  type = list(object({
    key        = string
    operator   = string
    values     = optional(list(string))
    min_values = optional(number)
  }))
  default = []
}

variable "labels" {
  description = "Labels on every node."
  type        = map(string)
  default     = {}
}

variable "taints" {
  description = "Taints on every node."
  type = list(object({
    key    = string
    value  = optional(string)
    effect = string
  }))
  default = []
}

variable "startup_taints" {
  description = "Taints a node starts with that something on the node (a CNI or an agent) removes; pods need not tolerate them."
  type = list(object({
    key    = string
    value  = optional(string)
    effect = string
  }))
  default = []
}

variable "annotations" {
  description = "Annotations on every node."
  type        = map(string)
  default     = {}
}

variable "termination_grace_period" {
  description = "How long a draining node may wait for its pods before they are deleted regardless of PodDisruptionBudgets, e.g. 24h; null waits as long as they need."
  type        = string
  default     = null
}

variable "consolidation_policy" {
  description = "WhenEmpty or WhenEmptyOrUnderutilized."
  type        = string
  default     = "WhenEmptyOrUnderutilized"

  validation {
    condition     = contains(["WhenEmpty", "WhenEmptyOrUnderutilized"], var.consolidation_policy)
    error_message = "consolidation_policy must be WhenEmpty or WhenEmptyOrUnderutilized."
  }
}

variable "consolidate_after" {
  description = "How long a node must be empty or underutilized before it goes, e.g. 30s, 5m, or Never."
  type        = string
  default     = "1m"
}

variable "budgets" {
  description = "Disruption budgets: how many of the pool's nodes may be disrupted at once (a count or a percentage), optionally only in a window that a UTC cron schedule opens for a duration (CronJob syntax with day and month names, such as \"0 9 * * mon-fri\", or @daily) or for some reasons (Empty, Underutilized, Drifted). The most restrictive active budget wins."
  type = list(object({
    nodes    = string
    schedule = optional(string)
    duration = optional(string)
    reasons  = optional(list(string))
  }))
  default = [{ nodes = "10%" }]

  validation {
    condition     = alltrue([for b in var.budgets : can(regex("^([0-9]+|[0-9]+%)$", b.nodes))])
    error_message = "Each budget's nodes must be a count like \"3\" or a percentage like \"10%\"."
  }

  validation {
    condition     = alltrue([for b in var.budgets : (b.schedule == null) == (b.duration == null)])
    error_message = "A budget's schedule and duration go together: set both or neither."
  }

  validation {
    condition     = alltrue([for b in var.budgets : alltrue([for r in coalesce(b.reasons, []) : contains(["Empty", "Underutilized", "Drifted"], r)])])
    error_message = "Budget reasons must be among Empty, Underutilized and Drifted."
  }
}

variable "expire_after" {
  description = "Replace nodes this long after launch, or Never."
  type        = string
  default     = "720h"
}

variable "limits" {
  description = "Caps on the pool's total resources, e.g. { cpu = \"1000\", memory = \"1000Gi\" }."
  type        = map(string)
  default     = {}
}

variable "weight" {
  description = "Pools with higher weights are tried first (1-100); null for none."
  type        = number
  default     = null
}

variable "karpenter_labels" {
  description = "Put Karpenter's keys for nodewright's labels (karpenter.sh/nodepool, karpenter.sh/capacity-type, karpenter.k8s.aws/instance-family and the rest) on the pool's nodes beside nodewright's, so workloads written for Karpenter keep matching. With false, pods that require a Karpenter key do not go to the pool."
  type        = bool
  default     = true
  nullable    = false
}

variable "cost_per_node_hour" {
  description = "What each node costs on top of its instance and volumes, in US dollars per node per hour (per-host licences of monitoring or security agents, say), as a decimal string such as \"0.012\". nodewright counts it in every node's cost, so the pool favours fewer, larger nodes. Changing it does not replace existing nodes. null for none."
  type        = string
  default     = null

  validation {
    condition     = var.cost_per_node_hour == null || can(regex("^[0-9]+([.][0-9]+)?$", var.cost_per_node_hour)) && try(length(var.cost_per_node_hour) <= 32, false)
    error_message = "cost_per_node_hour must be a non-negative decimal number of US dollars per node per hour of at most 32 characters, such as \"0.012\" (no sign, exponent or unit); round computed values with format(\"%.6f\", ...)."
  }
}
