# The controller, running with the IRSA role made by nodewright_controller_iam
# and reading interruption notices from nodewright_interruption_queue.
resource "nodewright_controller" "this" {
  cluster_name        = "prod"
  controller_role_arn = nodewright_controller_iam.this.role_arn
  interruption_queue  = nodewright_interruption_queue.this.name

  replicas  = 2
  log_level = "info"

  resources = {
    cpu_request    = "1"
    memory_request = "1Gi"
    memory_limit   = "1Gi"
  }

  # Give the controller time to drain and terminate its nodes on destroy.
  delete_timeout = "15m"
}
