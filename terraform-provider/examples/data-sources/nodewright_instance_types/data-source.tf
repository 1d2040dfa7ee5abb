# Graviton general-purpose types with at least 4 vCPUs, cheapest first.
data "nodewright_instance_types" "graviton" {
  requirements = [
    { key = "kubernetes.io/arch", operator = "In", values = ["arm64"] },
    { key = "nodewright.dev/instance-category", operator = "In", values = ["m"] },
    { key = "nodewright.dev/instance-cpu", operator = "Gt", values = ["3"] },
  ]
}

output "cheapest_graviton" {
  value = data.nodewright_instance_types.graviton.instance_types[0].name
}
