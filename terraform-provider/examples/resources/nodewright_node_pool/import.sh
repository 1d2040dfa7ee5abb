# A NodePool is imported by its name.
terraform import nodewright_node_pool.general general
