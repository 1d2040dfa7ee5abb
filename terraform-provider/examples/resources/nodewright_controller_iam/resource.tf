resource "nodewright_node_role" "nodes" {
  name = "prod-nodewright-nodes"
}

resource "nodewright_interruption_queue" "prod" {
  name         = "prod-nodewright"
  cluster_name = "prod"
}

# Trusted through EKS Pod Identity.
resource "nodewright_controller_iam" "controller" {
  name                   = "prod-nodewright-controller"
  cluster_name           = "prod"
  node_role_arn          = nodewright_node_role.nodes.arn
  interruption_queue_arn = nodewright_interruption_queue.prod.queue_arn
  pod_identity           = true
}

# Or trusted through IRSA.
resource "nodewright_controller_iam" "controller_irsa" {
  name          = "prod-nodewright-controller-irsa"
  cluster_name  = "prod"
  node_role_arn = nodewright_node_role.nodes.arn

  irsa {
    oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"
    namespace         = "kube-system"
    service_account   = "nodewright"
  }
}
