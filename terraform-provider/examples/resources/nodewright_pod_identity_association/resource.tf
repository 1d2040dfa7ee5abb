# The controller's service account gets the controller role through EKS
# Pod Identity (the nodewright module does this when controller_trust is
# "pod_identity", its default).
resource "nodewright_pod_identity_association" "controller" {
  cluster_name    = "prod"
  namespace       = "kube-system"
  service_account = "nodewright"
  role_arn        = nodewright_controller_iam.this.arn
}
