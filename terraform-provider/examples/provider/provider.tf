terraform {
  required_providers {
    nodewright = {
      source = "nodewright/nodewright"
    }
  }
}

# AWS credentials, region and endpoint come from the usual chain
# (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...) unless set here. The
# cluster is reached only when a resource first needs it, never at plan time.
provider "nodewright" {
  region = "us-east-1"

  kubernetes {
    # Look the cluster up and mint a short-lived EKS token with the
    # provider's AWS credentials.
    eks_cluster_name = "prod"

    # Against the local cloud: `source .localcloud/env`, drop region and
    # leave this block empty. The env file sets the AWS endpoint and region,
    # and config_path defaults to its KUBECONFIG.
  }
}
