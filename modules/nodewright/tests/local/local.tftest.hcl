# Apply tests against the local cloud (test/localcloud), with the real
# provider from the filesystem mirror. test/e2e (TestModuleLocalTests) starts
# a cloud and runs
#   terraform test -test-directory=tests/local -var-file=<cloud>.tfvars
# where the file sets aws_endpoint, region, kubeconfig and cluster_name.
# By hand, with `make local-up` and `source .localcloud/env`, write them from
# AWS_ENDPOINT_URL, AWS_REGION, KUBECONFIG and CLUSTER_NAME. Everything
# applied is destroyed when the file ends.

variables {
  controller_replicas = 1
}

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
    source = "./tests/local/cloud"
  }
}

run "bundle_without_controller" {
  command = apply

  variables {
    create_controller = false
    tags              = { team = "platform" }
  }

  assert {
    condition     = output.node_role_name == "nodewright-${var.cluster_name}-node"
    error_message = "node role name: ${output.node_role_name}"
  }
  assert {
    condition     = can(regex("^arn:aws:iam::[0-9]{12}:role/nodewright-${var.cluster_name}-node$", output.node_role_arn))
    error_message = "node role ARN: ${output.node_role_arn}"
  }
  assert {
    condition     = contains(nodewright_node_role.this[0].policy_arns, "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")
    error_message = "the node role lacks the EKS worker node policy: ${jsonencode(nodewright_node_role.this[0].policy_arns)}"
  }
  assert {
    condition     = output.instance_profile_name == output.node_role_name && nodewright_instance_profile.this[0].role == output.node_role_name
    error_message = "the instance profile must be named after, and hold, the node role"
  }
  assert {
    condition     = output.queue_name == "nodewright-${var.cluster_name}" && endswith(output.queue_url, "/nodewright-${var.cluster_name}")
    error_message = "queue: ${output.queue_name} at ${output.queue_url}"
  }
  assert {
    condition     = can(regex("^arn:aws:sqs:${var.region}:[0-9]{12}:nodewright-${var.cluster_name}$", output.queue_arn))
    error_message = "queue ARN: ${output.queue_arn}"
  }
  assert {
    condition     = length(output.event_rules) >= 4 && alltrue([for r in values(output.event_rules) : startswith(r, "nodewright-${var.cluster_name}-")])
    error_message = "EventBridge rules: ${jsonencode(output.event_rules)}"
  }
  assert {
    condition     = can(regex("^arn:aws:iam::[0-9]{12}:role/nodewright-${var.cluster_name}-controller$", output.controller_role_arn))
    error_message = "controller role ARN: ${output.controller_role_arn}"
  }
  assert {
    condition     = strcontains(nodewright_controller_iam.this[0].policy_json, output.queue_arn)
    error_message = "the controller policy must name the interruption queue"
  }
  assert {
    condition     = nodewright_cluster_access.this[0].id == "access_entry/${output.node_role_arn}" && nodewright_cluster_access.this[0].cluster_name == var.cluster_name
    error_message = "cluster access id: ${nodewright_cluster_access.this[0].id}"
  }
  assert {
    condition     = length(nodewright_controller.this) == 0
    error_message = "create_controller = false must not deploy the controller"
  }
}

# Turning the controller on is an update of the same state: the IAM and the
# queue stay, and the Deployment rolls out with one replica.
run "bundle_with_controller" {
  command = apply

  assert {
    condition     = nodewright_controller.this[0].namespace == "nodewright" && output.namespace == "nodewright"
    error_message = "the controller runs in the nodewright namespace"
  }
  assert {
    condition     = nodewright_controller.this[0].replicas == 1
    error_message = "one replica requested"
  }
  assert {
    condition     = nodewright_controller.this[0].interruption_queue == output.queue_name
    error_message = "the controller must read the module's queue"
  }
  assert {
    condition     = nodewright_controller.this[0].crds_version != ""
    error_message = "the controller must record the CRDs it installed"
  }
}
