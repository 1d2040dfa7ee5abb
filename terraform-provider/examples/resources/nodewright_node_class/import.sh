# An EC2NodeClass is imported by its name.
terraform import nodewright_node_class.default default
