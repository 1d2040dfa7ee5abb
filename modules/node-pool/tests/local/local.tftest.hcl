# Apply tests against the local cloud (test/localcloud), with the real
# provider from the filesystem mirror, on top of the nodewright module
# (../nodewright), which installs the CRDs and runs the controller.
# test/e2e (TestModuleLocalTests) starts a cloud and runs
#   terraform test -test-directory=tests/local -var-file=<cloud>.tfvars
# where the file sets aws_endpoint, region, kubeconfig and cluster_name.
# By hand, with `make local-up` and `source .localcloud/env`, write them from
# AWS_ENDPOINT_URL, AWS_REGION, KUBECONFIG and CLUSTER_NAME. Everything
# applied is destroyed when the file ends, the pool before the bundle.

provider "nodewright" {
  endpoint = run.cloud.aws_endpoint
  region   = run.cloud.region

  kubernetes {
    config_path = run.cloud.kubeconfig
  }
}

run "cloud" {
  command = apply

  module {
    source = "../nodewright/tests/local/cloud"
  }
}

run "bundle" {
  command = apply

  module {
    source = "../nodewright"
  }

  variables {
    controller_replicas = 1
  }
}

run "pool" {
  command = apply

  variables {
    name              = "general"
    node_role_name    = run.bundle.node_role_name
    capacity_types    = ["spot"]
    consolidate_after = "30s"
    labels            = { "example.com/team" = "web" }
    taints            = [{ key = "example.com/dedicated", value = "web", effect = "NoSchedule" }]
    limits            = { cpu = "64" }
  }

  assert {
    condition     = output.node_pool_name == "general" && output.node_class_name == "general"
    error_message = "pool ${output.node_pool_name}, class ${output.node_class_name}"
  }
  assert {
    condition     = nodewright_node_class.this[0].uid != "" && nodewright_node_pool.this.uid != ""
    error_message = "both objects must exist in the cluster (uid recorded)"
  }
  assert {
    condition     = nodewright_node_class.this[0].role == var.node_role_name && startswith(var.node_role_name, "nodewright-")
    error_message = "the class must launch nodes with the bundle's node role"
  }
  assert {
    condition     = nodewright_node_class.this[0].subnet_selector_terms[0].tags["nodewright.dev/discovery"] == var.cluster_name
    error_message = "subnets are discovered by the cluster's tag"
  }
  assert {
    condition     = nodewright_node_pool.this.requirements[0].values == tolist(["spot"])
    error_message = "capacity type requirement: ${jsonencode(nodewright_node_pool.this.requirements[0])}"
  }
  assert {
    condition     = nodewright_node_pool.this.disruption.consolidate_after == "30s" && nodewright_node_pool.this.disruption.budgets[0].nodes == "10%"
    error_message = "disruption: ${jsonencode(nodewright_node_pool.this.disruption)}"
  }
  assert {
    condition     = nodewright_node_pool.this.taints[0].effect == "NoSchedule" && nodewright_node_pool.this.limits["cpu"] == "64"
    error_message = "taints and limits must reach the NodePool"
  }
}

# Changing requirements, labels and disruption updates the pool in place.
# (The e2e test checks the plan's actions; a run exposes only outputs, so
# the uid cannot be compared across runs here.)
run "pool_updated_in_place" {
  command = apply

  variables {
    name                 = "general"
    node_role_name       = run.bundle.node_role_name
    capacity_types       = ["spot", "on-demand"]
    consolidation_policy = "WhenEmpty"
    labels               = { "example.com/team" = "api" }
  }

  assert {
    condition     = nodewright_node_pool.this.requirements[0].values == tolist(["spot", "on-demand"])
    error_message = "capacity type requirement: ${jsonencode(nodewright_node_pool.this.requirements[0])}"
  }
  assert {
    condition     = nodewright_node_pool.this.labels["example.com/team"] == "api" && nodewright_node_pool.this.disruption.consolidation_policy == "WhenEmpty"
    error_message = "the update did not reach the NodePool"
  }
}
