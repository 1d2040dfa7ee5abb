# Plan-level tests with a mocked provider: they check what the module asks
# for, not what AWS or Kubernetes do (the e2e test covers that).
mock_provider "nodewright" {}

variables {
  name           = "default"
  cluster_name   = "prod"
  node_role_name = "prod-nodes"
}

run "good_defaults" {
  command = plan

  assert {
    condition     = nodewright_node_pool.this.node_class == "default"
    error_message = "the NodePool must use the module's EC2NodeClass"
  }
  assert {
    condition     = length(nodewright_node_pool.this.requirements) == 4
    error_message = "capacity type, category, generation and arch requirements expected"
  }
  assert {
    condition     = nodewright_node_pool.this.disruption.consolidation_policy == "WhenEmptyOrUnderutilized"
    error_message = "default consolidation policy must be WhenEmptyOrUnderutilized"
  }
  assert {
    condition     = nodewright_node_pool.this.cost_per_node_hour == null
    error_message = "no per-node cost unless one is given"
  }
  assert {
    condition     = nodewright_node_class.this[0].subnet_selector_terms[0].tags["nodewright.dev/discovery"] == "prod"
    error_message = "subnets must be discovered by the cluster's discovery tag"
  }
}

run "rejects_bad_capacity_type" {
  command = plan

  variables {
    capacity_types = ["reserved"]
  }
  expect_failures = [var.capacity_types]
}

run "rejects_bad_name" {
  command = plan

  variables {
    name = "Not_A_DNS_Label"
  }
  expect_failures = [var.name]
}

run "budgets_pass_through" {
  command = plan

  variables {
    budgets = [
      { nodes = "0", schedule = "0 9 * * 1-5", duration = "8h", reasons = ["Underutilized"] },
      { nodes = "20%" },
    ]
  }

  assert {
    condition     = length(nodewright_node_pool.this.disruption.budgets) == 2 && nodewright_node_pool.this.disruption.budgets[0].schedule == "0 9 * * 1-5"
    error_message = "budgets should reach the node pool as given"
  }
}

run "rejects_bad_budget_nodes" {
  command = plan

  variables {
    budgets = [{ nodes = "ten" }]
  }
  expect_failures = [var.budgets]
}

run "rejects_schedule_without_duration" {
  command = plan

  variables {
    budgets = [{ nodes = "0", schedule = "@daily" }]
  }
  expect_failures = [var.budgets]
}

run "cost_per_node_hour_passes_through" {
  command = plan

  variables {
    # A number is converted to the decimal string the NodePool takes.
    cost_per_node_hour = 0.012
  }

  assert {
    condition     = nodewright_node_pool.this.cost_per_node_hour == "0.012"
    error_message = "cost_per_node_hour should reach the node pool as given"
  }
}

run "rejects_negative_cost_per_node_hour" {
  command = plan

  variables {
    cost_per_node_hour = "-1"
  }
  expect_failures = [var.cost_per_node_hour]
}

run "rejects_exponent_cost_per_node_hour" {
  command = plan

  variables {
    cost_per_node_hour = "1e3"
  }
  expect_failures = [var.cost_per_node_hour]
}

run "rejects_unrounded_cost_per_node_hour" {
  command = plan

  variables {
    cost_per_node_hour = 1 / 3
  }
  expect_failures = [var.cost_per_node_hour]
}

run "existing_node_class" {
  command = plan

  variables {
    node_class     = "gpu"
    cluster_name   = null
    node_role_name = null
  }

  assert {
    condition     = length(nodewright_node_class.this) == 0 && nodewright_node_pool.this.node_class == "gpu"
    error_message = "with node_class set, the module must make no class and the pool must use the one given"
  }
}

run "needs_a_role_to_make_a_class" {
  command = plan

  variables {
    node_role_name = null
  }
  expect_failures = [nodewright_node_class.this]
}

run "null_requirements_are_left_out" {
  command = plan

  variables {
    capacity_types      = null
    instance_categories = null
    min_generation      = null
    architectures       = ["arm64"]
    extra_requirements  = [{ key = "nodewright.dev/instance-family", operator = "In", values = ["m7g"] }]
  }

  assert {
    condition     = [for r in nodewright_node_pool.this.requirements : r.key] == ["kubernetes.io/arch", "nodewright.dev/instance-family"]
    error_message = "a null requirement variable must put no requirement on the pool"
  }
}

run "rejects_empty_capacity_types" {
  command = plan

  variables {
    capacity_types = []
  }
  expect_failures = [var.capacity_types]
}

run "karpenter_labels_on_by_default" {
  command = plan

  assert {
    condition     = nodewright_node_pool.this.karpenter_labels == true
    error_message = "nodes must carry Karpenter's label keys unless karpenter_labels is false"
  }
}
