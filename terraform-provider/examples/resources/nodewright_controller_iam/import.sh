# The controller role is imported by its name.
terraform import nodewright_controller_iam.controller prod-nodewright-controller
