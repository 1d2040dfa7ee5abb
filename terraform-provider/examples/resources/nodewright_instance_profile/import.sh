# An instance profile is imported by its name.
terraform import nodewright_instance_profile.nodes prod-nodewright-nodes
