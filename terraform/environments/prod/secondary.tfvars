# prod: warm-standby stack; the same sizes as the primary so a promoted
# standby carries the full load once dr scales the service to active_count.
availability_zones  = ["us-west-2a", "us-west-2b", "us-west-2c"]
vpc_cidr            = "10.60.0.0/16"
environment         = "prod"
primary_region      = "us-east-1"
secondary_region    = "us-west-2"
zone_name           = "prod.timeline.example.com"
deletion_protection = true
task_cpu            = 1024
task_memory         = 2048
active_count        = 4
standby_count       = 1
max_count           = 12
cache_node_type     = "cache.r6g.large"
nat_gateway_per_az  = true
db_instance_class   = "db.r6g.large"
db_multi_az         = true
alert_emails        = ["oncall+prod@timeline.example.com"]
tags = {
  CostCenter = "timeline"
}

# The Global Datastore ID is assigned by AWS: set it to the primary stack's
# output cache_global_replication_group_id after the primary's first apply.
# Until then the standby cache is standalone (rebuilt from the database).
cache_global_replication_group_id = null
