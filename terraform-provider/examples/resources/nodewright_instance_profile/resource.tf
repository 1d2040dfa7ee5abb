resource "nodewright_node_role" "nodes" {
  name = "prod-nodewright-nodes"
}

resource "nodewright_instance_profile" "nodes" {
  name = "prod-nodewright-nodes"
  role = nodewright_node_role.nodes.name
}
