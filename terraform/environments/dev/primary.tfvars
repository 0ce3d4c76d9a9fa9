# dev: primary region stack. Sizes: see terraform/README.md "Environments".
availability_zones             = ["us-east-1a", "us-east-1b"]
vpc_cidr                       = "10.10.0.0/16"
cache_global_datastore_enabled = false
budget_limit_usd               = 300
budget_emails                  = ["finance+dev@timeline.example.com"]
environment                    = "dev"
primary_region                 = "us-east-1"
secondary_region               = "us-west-2"
zone_name                      = "dev.timeline.example.com"
deletion_protection            = false
task_cpu                       = 256
task_memory                    = 512
active_count                   = 2
standby_count                  = 1
max_count                      = 4
cache_node_type                = "cache.t4g.micro"
nat_gateway_per_az             = false
db_instance_class              = "db.t4g.micro"
db_multi_az                    = false
alert_emails                   = ["oncall+dev@timeline.example.com"]
tags = {
  CostCenter = "timeline"
}
