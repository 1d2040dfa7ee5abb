resource "nodewright_node_pool" "general" {
  name       = "general"
  node_class = nodewright_node_class.default.name

  labels = { "example.com/team" = "web" }

  requirements = [
    { key = "nodewright.dev/capacity-type", operator = "In", values = ["spot", "on-demand"] },
    { key = "kubernetes.io/arch", operator = "In", values = ["amd64"] },
    # Keep spot flexible: at least five instance families must stay possible.
    { key = "nodewright.dev/instance-family", operator = "In", values = ["m5", "m6i", "m7i", "c5", "c6i", "c7i", "r6i"], min_values = 5 },
  ]

  taints = [{ key = "example.com/dedicated", value = "web", effect = "NoSchedule" }]

  limits = { cpu = "1000", memory = "4000Gi" }

  # Per-host agent licences, in US dollars per node per hour: nodewright
  # counts them in every node's cost, so the pool leans to fewer, larger nodes.
  cost_per_node_hour = "0.012"

  expire_after             = "720h"
  termination_grace_period = "1h"

  disruption = {
    consolidation_policy = "WhenEmptyOrUnderutilized"
    consolidate_after    = "1m"
    budgets = [
      { nodes = "10%" },
      # No voluntary disruption during office hours on weekdays.
      { nodes = "0", schedule = "0 9 * * mon-fri", duration = "8h" },
    ]
  }

  # Destroy waits this long for the pool's nodes to be drained and terminated.
  delete_timeout = "15m"
}
