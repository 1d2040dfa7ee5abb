# The controller is imported by the namespace it runs in.
terraform import nodewright_controller.this nodewright
