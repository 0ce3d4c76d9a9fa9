# staging: primary region stack. Sizes: see terraform/README.md "Environments".
availability_zones             = ["us-east-1a", "us-east-1b"]
vpc_cidr                       = "10.30.0.0/16"
cache_global_datastore_enabled = false
budget_limit_usd               = 1000
budget_emails                  = ["finance+staging@timeline.example.com"]
environment                    = "staging"
primary_region                 = "us-east-1"
secondary_region               = "us-west-2"
zone_name                      = "staging.timeline.example.com"
deletion_protection            = true
task_cpu                       = 512
task_memory                    = 1024
active_count                   = 2
standby_count                  = 1
max_count                      = 6
cache_node_type                = "cache.t4g.small"
nat_gateway_per_az             = false
db_instance_class              = "db.t4g.medium"
db_multi_az                    = true
alert_emails                   = ["oncall+staging@timeline.example.com"]
tags = {
  CostCenter = "timeline"
}
