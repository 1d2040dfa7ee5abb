# Register the cluster's service-account issuer for IRSA (the nodewright
# module does this when controller_trust = "irsa" and create_oidc_provider
# is true).
resource "nodewright_oidc_provider" "prod" {
  cluster_name = "prod"
}
