# converted from EC2NodeClass everything
# lossy: EC2NodeClass everything: spec.associatePublicIPAddress: nodes get the subnet's default public IP setting
# lossy: EC2NodeClass everything: spec.capacityReservationSelectorTerms: nodewright does not launch into capacity reservations
# lossy: EC2NodeClass everything: spec.instanceStorePolicy: nodewright does not RAID0 instance store volumes; ephemeral storage stays on the root volume
resource "nodewright_node_class" "everything" {
  name = "everything"
  ami_selector_terms = [{
    alias = "al2023@v20250101"
  }]
  block_device_mappings = [{
    device_name = "/dev/xvda"
    ebs = {
      delete_on_termination = true
      encrypted             = true
      iops                  = 3000
      throughput            = 125
      volume_size           = "80Gi"
      volume_type           = "gp3"
    }
    root_volume = true
  }]
  kubelet = {
    cluster_dns   = ["10.100.0.10"]
    cpu_cfs_quota = true
    eviction_hard = {
      "memory.available" = "5%"
      "nodefs.available" = "10%"
    }
    eviction_max_pod_grace_period = 60
    eviction_soft = {
      "memory.available" = "10%"
    }
    eviction_soft_grace_period = {
      "memory.available" = "1m0s"
    }
    image_gc_high_threshold_percent = 85
    image_gc_low_threshold_percent  = 80
    kube_reserved = {
      cpu               = "200m"
      ephemeral-storage = "3Gi"
      memory            = "200Mi"
    }
    max_pods      = 110
    pods_per_core = 8
    system_reserved = {
      cpu               = "100m"
      ephemeral-storage = "1Gi"
      memory            = "100Mi"
    }
  }
  metadata_options = {
    http_endpoint               = "enabled"
    http_protocol_ipv6          = "disabled"
    http_put_response_hop_limit = 1
    http_tokens                 = "required"
  }
  role = "KarpenterNodeRole-my-cluster"
  security_group_selector_terms = [{
    id = "sg-0123456789abcdef0"
  }]
  subnet_selector_terms = [{
    tags = {
      "karpenter.sh/discovery" = "my-cluster"
    }
  }]
  tags = {
    team = "payments"
  }
  user_data = "echo hello\n"
}

# converted from NodePool everything
module "everything" {
  source              = "../modules/node-pool"
  name                = "everything"
  node_class          = nodewright_node_class.everything.name
  instance_categories = null
  min_generation      = null
  architectures       = null
  annotations = {
    "example.com/owner" = "payments"
  }
  budgets = [{
    nodes   = "20%"
    reasons = ["Empty", "Drifted"]
    }, {
    duration = "10m0s"
    nodes    = "0"
    reasons  = ["Underutilized"]
    schedule = "@daily"
  }]
  capacity_types       = ["spot", "on-demand"]
  consolidate_after    = "5m"
  consolidation_policy = "WhenEmpty"
  expire_after         = "336h"
  extra_requirements = [{
    key      = "nodewright.dev/instance-cpu"
    operator = "Gt"
    values   = ["3"]
    }, {
    key      = "nodewright.dev/instance-memory"
    operator = "Lt"
    values   = ["65537"]
    }, {
    key        = "node.kubernetes.io/instance-type"
    min_values = 5
    operator   = "Exists"
  }]
  labels = {
    team = "payments"
  }
  limits = {
    cpu    = "1k"
    memory = "4000Gi"
  }
  startup_taints = [{
    effect = "NoExecute"
    key    = "node.cilium.io/agent-not-ready"
    value  = "true"
  }]
  taints = [{
    effect = "NoSchedule"
    key    = "dedicated"
    value  = "payments"
  }]
  termination_grace_period = "24h0m0s"
  weight                   = 100
}

