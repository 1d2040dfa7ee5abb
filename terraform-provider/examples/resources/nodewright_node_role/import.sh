# The node role is imported by its name.
terraform import nodewright_node_role.nodes prod-nodewright-nodes
