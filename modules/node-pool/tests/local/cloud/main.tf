# Passes the local cloud's endpoints, given on the command line, to the
# test file's provider block: terraform and tofu both let a provider in a
# test file read a run's outputs.

# Unused here, but every module of a test file must agree on what
# "nodewright" means.
terraform {
  required_providers {
    nodewright = {
      source = "nodewright/nodewright"
    }
  }
}

variable "aws_endpoint" {
  description = "The local cloud's AWS endpoint (AWS_ENDPOINT_URL)."
  type        = string
}

variable "region" {
  description = "The local cloud's region (AWS_REGION)."
  type        = string
}

variable "kubeconfig" {
  description = "The local cloud's kubeconfig (KUBECONFIG)."
  type        = string
}

output "aws_endpoint" {
  value = var.aws_endpoint
}

output "region" {
  value = var.region
}

output "kubeconfig" {
  value = var.kubeconfig
}
