# converted from EC2NodeClass everything
# note: EC2NodeClass everything: spec.amiFamily: became amiSelectorTerms alias bottlerocket@latest: nodes take the newest AMI, as the family did
# lossy: EC2NodeClass everything: spec.associatePublicIPAddress: nodes get the subnet's default public IP setting
# lossy: EC2NodeClass everything: spec.context: nodewright does not launch through an EC2 Fleet context
# lossy: EC2NodeClass everything: spec.detailedMonitoring: nodewright launches with basic CloudWatch monitoring
# lossy: EC2NodeClass everything: spec.instanceStorePolicy: nodewright does not RAID0 instance store volumes; ephemeral storage stays on the root volume
resource "nodewright_node_class" "everything" {
  name = "everything"
  ami_selector_terms = [{
    alias = "bottlerocket@latest"
  }]
  block_device_mappings = [{
    device_name = "/dev/xvdb"
    ebs = {
      encrypted   = true
      volume_size = "100Gi"
      volume_type = "gp3"
    }
  }]
  kubelet = {
    cluster_dns   = ["10.100.0.10"]
    cpu_cfs_quota = true
    eviction_hard = {
      "memory.available" = "5%"
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
      cpu = "200m"
    }
    max_pods = 58
    system_reserved = {
      cpu = "100m"
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
    tags = {
      "karpenter.sh/discovery" = "my-cluster"
    }
    }, {
    name = "my-security-group"
  }]
  subnet_selector_terms = [{
    tags = {
      "karpenter.sh/discovery" = "my-cluster"
    }
    }, {
    id = "subnet-0123456789abcdef0"
  }]
  tags = {
    team = "payments"
  }
  user_data = "[settings.kubernetes]\nmax-pods = 58\n"
}

# converted from NodePool everything
# note: NodePool everything: spec.disruption.consolidationPolicy: WhenUnderutilized is WhenEmptyOrUnderutilized with consolidateAfter 0s, as Karpenter's v1 migration converts it
# note: NodePool everything: spec.disruption.expireAfter: moved to spec.template.spec.expireAfter, as in Karpenter v1
# note: NodePool everything: spec.template.spec.kubelet: moved to EC2NodeClass everything, as in Karpenter v1
# lossy: NodePool everything: spec.template.spec.kubelet.podsPerCore: Bottlerocket has no podsPerCore setting; left out (use maxPods)
resource "nodewright_node_pool" "everything" {
  name       = "everything"
  node_class = nodewright_node_class.everything.name
  annotations = {
    "example.com/owner" = "payments"
  }
  disruption = {
    budgets = [{
      nodes = "10%"
      }, {
      duration = "8h0m0s"
      nodes    = "0"
      schedule = "0 9 * * mon-fri"
    }]
    consolidate_after    = "0s"
    consolidation_policy = "WhenEmptyOrUnderutilized"
  }
  expire_after = "720h"
  labels = {
    team = "payments"
  }
  limits = {
    cpu = "256"
  }
  requirements = [{
    key      = "nodewright.dev/capacity-type"
    operator = "In"
    values   = ["spot", "on-demand"]
    }, {
    key        = "nodewright.dev/instance-family"
    min_values = 2
    operator   = "In"
    values     = ["c7g", "m7g"]
    }, {
    key      = "nodewright.dev/instance-size"
    operator = "NotIn"
    values   = ["metal"]
  }]
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
  weight = 10
}

