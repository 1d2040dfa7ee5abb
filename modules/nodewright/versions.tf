terraform {
  required_version = ">= 1.5"

  required_providers {
    nodewright = {
      source  = "nodewright/nodewright"
      version = ">= 0.1.0"
    }
  }
}
