# prod: primary region stack. Sizes: see terraform/README.md "Environments".
availability_zones             = ["us-east-1a", "us-east-1b", "us-east-1c"]
vpc_cidr                       = "10.50.0.0/16"
cache_global_datastore_enabled = true
budget_limit_usd               = 5000
budget_emails                  = ["finance+prod@timeline.example.com"]
environment                    = "prod"
primary_region                 = "us-east-1"
secondary_region               = "us-west-2"
zone_name                      = "prod.timeline.example.com"
deletion_protection            = true
task_cpu                       = 1024
task_memory                    = 2048
active_count                   = 4
standby_count                  = 1
max_count                      = 12
cache_node_type                = "cache.r6g.large"
nat_gateway_per_az             = true
db_instance_class              = "db.r6g.large"
db_multi_az                    = true
alert_emails                   = ["oncall+prod@timeline.example.com"]
tags = {
  CostCenter = "timeline"
}
