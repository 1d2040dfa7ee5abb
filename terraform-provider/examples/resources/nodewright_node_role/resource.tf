resource "nodewright_node_role" "nodes" {
  name       = "prod-nodewright-nodes"
  attach_ssm = true

  # Further managed policies, for example for the EBS CSI driver.
  extra_policy_arns = ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]

  tags = {
    team = "platform"
  }
}
