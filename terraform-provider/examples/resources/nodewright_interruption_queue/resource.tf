resource "nodewright_interruption_queue" "prod" {
  name         = "prod-nodewright"
  cluster_name = "prod"

  tags = {
    team = "platform"
  }
}

output "interruption_queue_url" {
  value = nodewright_interruption_queue.prod.queue_url
}
