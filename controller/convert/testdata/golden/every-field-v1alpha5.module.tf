# converted from AWSNodeTemplate everything
# lossy: AWSNodeTemplate everything: spec.context: nodewright does not launch through an EC2 Fleet context
# lossy: AWSNodeTemplate everything: spec.detailedMonitoring: nodewright launches with basic CloudWatch monitoring
resource "nodewright_node_class" "everything" {
  name       = "everything"
  ami_family = "AL2023"
  ami_selector_terms = [{
    name  = "my-golden-ami-*"
    owner = "123456789012"
  }]
  block_device_mappings = [{
    device_name = "/dev/xvda"
    ebs = {
      delete_on_termination = true
      encrypted             = true
      iops                  = 4000
      kms_key_id            = "arn:aws:kms:us-east-1:123456789012:key/abcd"
      snapshot_id           = "snap-0123456789abcdef0"
      throughput            = 250
      volume_size           = "50Gi"
      volume_type           = "gp3"
    }
  }]
  instance_profile = "KarpenterNodeInstanceProfile-my-cluster"
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
      cpu    = "200m"
      memory = "200Mi"
    }
    max_pods      = 58
    pods_per_core = 4
    system_reserved = {
      cpu    = "100m"
      memory = "100Mi"
    }
  }
  metadata_options = {
    http_endpoint               = "enabled"
    http_protocol_ipv6          = "disabled"
    http_put_response_hop_limit = 2
    http_tokens                 = "required"
  }
  security_group_selector_terms = [{
    id = "sg-0123456789abcdef0"
    }, {
    id = "sg-0fedcba9876543210"
  }]
  subnet_selector_terms = [{
    tags = {
      "karpenter.sh/discovery" = "my-cluster"
    }
  }]
  tags = {
    team = "payments"
  }
  user_data = "#!/bin/bash\necho hello\n"
}

# converted from Provisioner everything
# lossy: Provisioner everything: spec.requirements[3]: nodewright has no label karpenter.k8s.aws/instance-cpu-manufacturer; the requirement is left out, so the pool admits more instance types
# note: Provisioner everything: spec: v1alpha5 had no disruption budgets: nodes: 100% keeps its behaviour (every empty node goes when due); lower it to limit disruptions at once
# lossy: Provisioner everything: spec.kubeletConfiguration.containerRuntime: has no nodewright equivalent; left out
# note: Provisioner everything: spec.kubeletConfiguration: moved to EC2NodeClass everything, as in Karpenter v1
module "everything" {
  source     = "../modules/node-pool"
  name       = "everything"
  node_class = nodewright_node_class.everything.name
  annotations = {
    "example.com/owner" = "payments"
  }
  architectures = ["arm64"]
  budgets = [{
    nodes = "100%"
  }]
  capacity_types       = ["spot", "on-demand"]
  consolidate_after    = "1m"
  consolidation_policy = "WhenEmpty"
  expire_after         = "168h"
  extra_requirements = [{
    key      = "topology.kubernetes.io/zone"
    operator = "In"
    values   = ["us-east-1a", "us-east-1b"]
  }]
  instance_categories = ["c", "m", "r"]
  labels = {
    "nodewright.dev/capacity-type" = "spot"
    team                           = "payments"
  }
  limits = {
    cpu    = "256"
    memory = "1Ti"
  }
  min_generation = 4
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
  weight = 50
}

