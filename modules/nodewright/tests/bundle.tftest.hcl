# Plan-level tests with a mocked provider. OpenTofu fills computed
# attributes with random strings already at plan time, so the ARNs other
# resources validate get well-formed defaults.
mock_provider "nodewright" {
  mock_resource "nodewright_node_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/nodewright-prod-node"
    }
  }
  mock_resource "nodewright_interruption_queue" {
    defaults = {
      queue_arn = "arn:aws:sqs:us-east-1:111122223333:nodewright-prod"
      queue_url = "https://sqs.us-east-1.amazonaws.com/111122223333/nodewright-prod"
    }
  }
  mock_resource "nodewright_controller_iam" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/nodewright-prod-controller"
    }
  }
}

variables {
  cluster_name = "prod"
}

run "creates_the_bundle" {
  command = plan

  assert {
    condition     = length(nodewright_node_role.this) == 1 && length(nodewright_interruption_queue.this) == 1 && length(nodewright_controller.this) == 1
    error_message = "node role, interruption queue and controller expected by default"
  }
  assert {
    condition     = nodewright_controller_iam.this[0].pod_identity
    error_message = "pod identity is the default trust"
  }
  assert {
    condition     = length(nodewright_pod_identity_association.controller) == 1 && nodewright_pod_identity_association.controller[0].service_account == "nodewright" && nodewright_controller.this[0].pod_identity
    error_message = "the controller's service account is associated with its role, and the controller runs without static credentials"
  }
  assert {
    condition     = nodewright_interruption_queue.this[0].name == "nodewright-prod"
    error_message = "the queue is named after the cluster"
  }
}

run "toggles_turn_parts_off" {
  command = plan

  variables {
    create_interruption_queue = false
    create_controller         = false
  }
  assert {
    condition     = length(nodewright_interruption_queue.this) == 0 && length(nodewright_controller.this) == 0
    error_message = "toggles must remove the queue and the controller"
  }
}

run "rejects_unknown_trust" {
  command = plan

  variables {
    controller_trust = "magic"
  }
  expect_failures = [var.controller_trust]
}

run "controller_settings_reach_the_controller" {
  command = plan

  variables {
    controller_settings = { REBALANCE_POLICY = "Cordon" }
  }
  assert {
    condition     = nodewright_controller.this[0].env["REBALANCE_POLICY"] == "Cordon"
    error_message = "controller_settings must become the controller's environment"
  }
}

run "rejects_bad_setting_name" {
  command = plan

  variables {
    controller_settings = { "rebalance-policy" = "Cordon" }
  }
  expect_failures = [var.controller_settings]
}

run "controller_is_hardened_by_default" {
  command = plan

  assert {
    condition     = nodewright_controller.this[0].pdb_max_unavailable == 1 && nodewright_controller.this[0].security_context && nodewright_controller.this[0].metrics_service
    error_message = "a PodDisruptionBudget, the restricted security context and the metrics Service are on by default"
  }
  assert {
    condition     = nodewright_controller.this[0].priority_class_name == "system-cluster-critical" && nodewright_controller.this[0].affinity_avoid_managed
    error_message = "the controller is system-cluster-critical and kept off managed nodes by default"
  }
}

run "controller_scheduling_inputs_reach_the_controller" {
  command = plan

  variables {
    controller_pdb_max_unavailable = 0
    controller_metrics_port        = 0
    controller_topology_spread     = [{ topology_key = "kubernetes.io/hostname" }]
    controller_tolerations         = [{ key = "dedicated", value = "system", effect = "NoSchedule" }]
    controller_resources           = { cpu_request = "250m" }
  }
  assert {
    condition     = nodewright_controller.this[0].pdb_max_unavailable == 0 && nodewright_controller.this[0].metrics_port == 0
    error_message = "controller_pdb_max_unavailable and controller_metrics_port must reach the controller"
  }
  assert {
    condition     = nodewright_controller.this[0].topology_spread[0].when_unsatisfiable == "DoNotSchedule" && nodewright_controller.this[0].tolerations[0].operator == "Equal"
    error_message = "spread and toleration defaults are filled in by the module's types"
  }
  assert {
    condition     = nodewright_controller.this[0].resources.cpu_request == "250m"
    error_message = "controller_resources must reach the controller"
  }
}

run "rejects_bad_spread" {
  command = plan

  variables {
    controller_topology_spread = [{ topology_key = "topology.kubernetes.io/zone", when_unsatisfiable = "Sometimes" }]
  }
  expect_failures = [var.controller_topology_spread]
}

run "rejects_bad_pdb" {
  command = plan

  variables {
    controller_pdb_max_unavailable = -1
  }
  expect_failures = [var.controller_pdb_max_unavailable]
}
