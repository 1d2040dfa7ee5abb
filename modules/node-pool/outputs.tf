output "node_pool_name" {
  description = "Name of the NodePool."
  value       = nodewright_node_pool.this.name
}

output "node_class_name" {
  description = "Name of the EC2NodeClass."
  value       = nodewright_node_pool.this.node_class
}
