resource "nodewright_node_class" "default" {
  name = "default"
  role = "nodewright-node-my-cluster"

  # Latest EKS-optimised Amazon Linux 2023; ami_family is implied.
  ami_selector_terms            = [{ alias = "al2023@latest" }]
  subnet_selector_terms         = [{ tags = { "nodewright.dev/discovery" = "my-cluster" } }]
  security_group_selector_terms = [{ tags = { "nodewright.dev/discovery" = "my-cluster" } }]

  tags = { team = "platform" }

  block_device_mappings = [{
    device_name = "/dev/xvda"
    root_volume = true
    ebs = {
      volume_size           = "50Gi"
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }]

  kubelet = {
    max_pods        = 110
    system_reserved = { cpu = "100m", memory = "256Mi" }
    eviction_hard   = { "memory.available" = "5%" }
  }
}
