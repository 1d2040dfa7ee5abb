################################################################################
# Node IAM
################################################################################

output "node_role_name" {
  description = "Name of the node IAM role; EC2NodeClasses refer to it."
  value       = local.node_role_name
}

output "node_role_arn" {
  description = "ARN of the node IAM role."
  value       = try(nodewright_node_role.this[0].arn, null)
}

output "instance_profile_name" {
  description = "Name of the node instance profile."
  value       = try(nodewright_instance_profile.this[0].name, null)
}

################################################################################
# Interruption queue
################################################################################

output "queue_name" {
  description = "Name of the SQS interruption queue."
  value       = try(nodewright_interruption_queue.this[0].name, null)
}

output "queue_arn" {
  description = "ARN of the SQS interruption queue."
  value       = try(nodewright_interruption_queue.this[0].queue_arn, null)
}

output "queue_url" {
  description = "URL of the SQS interruption queue."
  value       = try(nodewright_interruption_queue.this[0].queue_url, null)
}

output "event_rules" {
  description = "EventBridge rule names, by event kind."
  value       = try(nodewright_interruption_queue.this[0].rule_names, {})
}

################################################################################
# Controller
################################################################################

output "controller_role_arn" {
  description = "ARN of the controller IAM role."
  value       = try(nodewright_controller_iam.this[0].arn, null)
}

output "namespace" {
  description = "Namespace the controller runs in."
  value       = var.namespace
}
