# The queue is imported by its name; its EventBridge rules are named after it.
terraform import nodewright_interruption_queue.prod prod-nodewright
