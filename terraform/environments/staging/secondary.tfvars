# staging: warm-standby stack; the same sizes as the primary so a promoted
# standby carries the full load once dr scales the service to active_count.
availability_zones  = ["us-west-2a", "us-west-2b"]
vpc_cidr            = "10.40.0.0/16"
environment         = "staging"
primary_region      = "us-east-1"
secondary_region    = "us-west-2"
zone_name           = "staging.timeline.example.com"
deletion_protection = true
task_cpu            = 512
task_memory         = 1024
active_count        = 2
standby_count       = 1
max_count           = 6
cache_node_type     = "cache.t4g.small"
nat_gateway_per_az  = false
db_instance_class   = "db.t4g.medium"
db_multi_az         = true
alert_emails        = ["oncall+staging@timeline.example.com"]
tags = {
  CostCenter = "timeline"
}
