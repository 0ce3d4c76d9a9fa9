# Module properties the seed asks for, checked on the plan of each module alone.
# The runs "apply" against the mock provider: nothing reaches AWS, and computed
# attributes get fake values, so conditions on them are known.

mock_provider "aws" {
  source = "./mocks"
}

variables {
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  tags        = { App = "timeline", Environment = "test" }
}

run "kms_key_rotates" {
  command = apply
  module {
    source = "../modules/kms-key"
  }
  variables {
    alias_name  = "timeline-test"
    description = "test"
  }
  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "KMS keys must rotate."
  }
}

run "state_backend_is_private_encrypted_and_locked" {
  command = apply
  module {
    source = "../modules/state-backend"
  }
  variables {
    name_prefix     = "timeline-test-use1"
    bucket_name     = "timeline-test-tfstate-use1-123456789012"
    lock_table_name = "timeline-test-locks"
  }
  assert {
    condition     = aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled"
    error_message = "State bucket must be versioned."
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.state.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"
    error_message = "State must be encrypted with KMS."
  }
  assert {
    condition     = aws_s3_bucket_public_access_block.state.block_public_acls && aws_s3_bucket_public_access_block.state.block_public_policy && aws_s3_bucket_public_access_block.state.ignore_public_acls && aws_s3_bucket_public_access_block.state.restrict_public_buckets
    error_message = "State bucket must block all public access."
  }
  assert {
    condition     = one(data.aws_iam_policy_document.tls_only.statement[0].condition).variable == "aws:SecureTransport" && data.aws_iam_policy_document.tls_only.statement[0].effect == "Deny"
    error_message = "State bucket policy must deny non-TLS requests."
  }
  assert {
    condition     = aws_dynamodb_table.lock.hash_key == "LockID" && aws_dynamodb_table.lock.server_side_encryption[0].enabled && aws_dynamodb_table.lock.point_in_time_recovery[0].enabled
    error_message = "Lock table must use LockID, be KMS-encrypted and have point-in-time recovery."
  }
}

run "network_private_subnets_have_no_internet_route" {
  command = apply
  module {
    source = "../modules/network"
  }
  variables {
    name_prefix        = "timeline-test"
    region_code        = "use1"
    vpc_cidr           = "10.10.0.0/16"
    availability_zones = ["us-east-1a", "us-east-1b"]
    nat_gateway_per_az = false
  }
  assert {
    condition     = length(aws_subnet.public) == 2 && length(aws_subnet.private) == 2 && length(distinct(aws_subnet.private[*].availability_zone)) == 2
    error_message = "Public and private subnets must span 2 AZs."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : !s.map_public_ip_on_launch])
    error_message = "Nothing may get a public IP just by landing in a public subnet."
  }
  assert {
    condition     = alltrue([for r in aws_route.private_nat : r.gateway_id == null && r.nat_gateway_id != null])
    error_message = "Private subnets must route out through NAT only, never an internet gateway."
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 1
    error_message = "nat_gateway_per_az = false must build one NAT gateway."
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.alb_https.cidr_ipv4 == "0.0.0.0/0" && aws_vpc_security_group_ingress_rule.alb_https.from_port == 443 && aws_vpc_security_group_ingress_rule.alb_https.to_port == 443
    error_message = "The only world-open ingress is the ALB's 443."
  }
  assert {
    condition = alltrue([for r in [
      aws_vpc_security_group_ingress_rule.app_from_alb,
      aws_vpc_security_group_ingress_rule.db_from_app,
      aws_vpc_security_group_ingress_rule.cache_from_app,
    ] : r.cidr_ipv4 == null && r.referenced_security_group_id != null])
    error_message = "App, database and cache may only be reached from their peer security group."
  }
  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The default security group must allow nothing."
  }
  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_cloudwatch_log_group.flow.kms_key_id == var.kms_key_arn
    error_message = "Flow logs must capture all traffic into a KMS-encrypted log group."
  }
  assert {
    condition     = length(aws_network_acl.private.subnet_ids) == 2 && length(aws_network_acl.public.subnet_ids) == 2
    error_message = "Every subnet must be covered by a NACL."
  }
}

run "network_nat_per_az" {
  command = apply
  module {
    source = "../modules/network"
  }
  variables {
    name_prefix        = "timeline-test"
    region_code        = "use1"
    vpc_cidr           = "10.50.0.0/16"
    availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
    nat_gateway_per_az = true
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(aws_route_table.private) == 3
    error_message = "nat_gateway_per_az must build a NAT gateway and route table per AZ."
  }
}

run "storage_buckets_are_private_and_encrypted" {
  command = apply
  module {
    source = "../modules/storage"
  }
  variables {
    name_prefix                     = "timeline-test"
    region_code                     = "use1"
    assets_bucket_name              = "timeline-test-assets-use1-123456789012"
    backups_bucket_name             = "timeline-test-backups-use1-123456789012"
    logs_bucket_name                = "timeline-test-logs-use1-123456789012"
    assets_reader_distribution_arns = ["arn:aws:cloudfront::123456789012:distribution/E2ABCDEFGHIJK"]
    backup_replication = {
      bucket_arn  = "arn:aws:s3:::timeline-test-backups-usw2-123456789012"
      kms_key_arn = "arn:aws:kms:us-west-2:123456789012:key/66666666-7777-8888-9999-000000000000"
    }
  }
  assert {
    condition = alltrue([for b in [aws_s3_bucket_public_access_block.assets, aws_s3_bucket_public_access_block.backups, aws_s3_bucket_public_access_block.logs] :
    b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets])
    error_message = "Every bucket must block public access."
  }
  assert {
    condition     = alltrue([for b in [aws_s3_bucket_server_side_encryption_configuration.assets, aws_s3_bucket_server_side_encryption_configuration.backups] : one(b.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms"])
    error_message = "Assets and backups must be encrypted with KMS."
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.logs.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "The log bucket must be encrypted (SSE-S3, which ALB log delivery requires)."
  }
  assert {
    condition     = alltrue([for v in [aws_s3_bucket_versioning.assets, aws_s3_bucket_versioning.backups, aws_s3_bucket_versioning.logs] : v.versioning_configuration[0].status == "Enabled"])
    error_message = "Every bucket must be versioned."
  }
  assert {
    condition     = alltrue([for k, d in data.aws_iam_policy_document.bucket : d.statement[0].effect == "Deny" && one(d.statement[0].condition).variable == "aws:SecureTransport"])
    error_message = "Every bucket policy must deny non-TLS access."
  }
  assert {
    condition     = !anytrue([for k, d in data.aws_iam_policy_document.bucket : anytrue([for s in d.statement : s.effect != "Deny" && anytrue([for p in s.principals : p.type == "*"])])])
    error_message = "No bucket policy may allow everyone."
  }
  assert {
    condition     = sort([for t in aws_s3_bucket_lifecycle_configuration.backups.rule[0].transition : t.storage_class]) == sort(["STANDARD_IA", "GLACIER", "DEEP_ARCHIVE"]) && aws_s3_bucket_lifecycle_configuration.backups.rule[0].expiration[0].days == 400
    error_message = "Backups must move to archival tiers and then expire."
  }
  assert {
    condition     = toset(keys(aws_s3_bucket_replication_configuration.this)) == toset(["backups"]) && aws_s3_bucket_replication_configuration.this["backups"].rule[0].destination[0].encryption_configuration[0].replica_kms_key_id == var.backup_replication.kms_key_arn
    error_message = "Backups must replicate to the peer region under the peer's key."
  }
}

run "database_writer_settings" {
  command   = apply
  state_key = "database_writer_settings"
  module {
    source = "../modules/database"
  }
  variables {
    identifier          = "timeline-test-main"
    region_code         = "use1"
    instance_class      = "db.r6g.large"
    multi_az            = true
    deletion_protection = true
    subnet_ids          = ["subnet-a", "subnet-b"]
    security_group_id   = "sg-db"
  }
  assert {
    condition     = aws_db_instance.original.storage_encrypted && aws_db_instance.original.kms_key_id == var.kms_key_arn
    error_message = "Storage must be encrypted with the region's KMS key."
  }
  assert {
    condition     = aws_db_instance.original.multi_az && aws_db_instance.original.backup_retention_period == 30
    error_message = "Multi-AZ with 30-day backups."
  }
  assert {
    condition     = aws_db_instance.original.manage_master_user_password && aws_db_instance.original.password == null
    error_message = "The master password must be managed by RDS in Secrets Manager, never passed in."
  }
  assert {
    condition     = anytrue([for p in aws_db_parameter_group.this.parameter : p.name == "rds.force_ssl" && p.value == "1"])
    error_message = "The parameter group must enforce TLS."
  }
  assert {
    condition     = aws_db_instance.original.performance_insights_enabled && aws_db_instance.original.monitoring_interval > 0 && !aws_db_instance.original.publicly_accessible
    error_message = "Performance Insights and enhanced monitoring on; never public."
  }
  assert {
    condition     = aws_db_instance.original.replicate_source_db == null
    error_message = "A writer must not be a replica."
  }
  assert {
    condition     = aws_db_instance.original.engine_version == "16" && aws_db_instance.original.auto_minor_version_upgrade
    error_message = "Only the major version is pinned: AWS's minor upgrades must not make a plan ask for a downgrade."
  }
  assert {
    condition     = length(aws_db_instance.adopted) == 0 && output.retired_identifier == null && output.identifier == var.identifier
    error_message = "While the instance Terraform created is in service, nothing is adopted."
  }
}

run "database_cross_region_replica" {
  command   = apply
  state_key = "database_cross_region_replica"
  module {
    source = "../modules/database"
  }
  variables {
    identifier         = "timeline-test-main-dr"
    region_code        = "usw2"
    source_db_arn      = "arn:aws:rds:us-east-1:123456789012:db:timeline-test-main"
    created_as_replica = true
    role               = "replica"
    instance_class     = "db.r6g.large"
    multi_az           = false
    kms_key_arn        = "arn:aws:kms:us-west-2:123456789012:key/66666666-7777-8888-9999-000000000000"
    subnet_ids         = ["subnet-a", "subnet-b"]
    security_group_id  = "sg-db"
  }
  assert {
    condition     = aws_db_instance.original.replicate_source_db == var.source_db_arn && aws_db_instance.original.kms_key_id == var.kms_key_arn
    error_message = "The replica must follow the primary's ARN under its own region's key."
  }
  assert {
    condition     = aws_db_instance.original.manage_master_user_password == null
    error_message = "A replica inherits its credentials."
  }
}

# The dr_state a stack is given is checked against the instance: an instance that is not
# what dr_state says stops the plan (here: dr_state says fenced, the instance has the
# security group Terraform gave it).
run "database_role_must_match_the_instance" {
  command   = plan
  state_key = "database_role_must_match_the_instance"
  module {
    source = "../modules/database"
  }
  variables {
    identifier        = "timeline-test-main"
    region_code       = "use1"
    source_db_arn     = "arn:aws:rds:us-west-2:123456789012:db:timeline-test-main-dr"
    role              = "fenced"
    instance_class    = "db.r6g.large"
    multi_az          = false
    subnet_ids        = ["subnet-a", "subnet-b"]
    security_group_id = "sg-db"
  }
  expect_failures = [output.identifier]
}

run "database_replica_is_not_a_writer" {
  command   = plan
  state_key = "database_replica_is_not_a_writer"
  module {
    source = "../modules/database"
  }
  variables {
    identifier         = "timeline-test-main-dr"
    region_code        = "usw2"
    source_db_arn      = "arn:aws:rds:us-east-1:123456789012:db:timeline-test-main"
    created_as_replica = true
    role               = "writer"
    instance_class     = "db.r6g.large"
    multi_az           = false
    subnet_ids         = ["subnet-a", "subnet-b"]
    security_group_id  = "sg-db"
  }
  expect_failures = [output.identifier]
}

run "cache_is_multi_az_and_encrypted" {
  command = apply
  module {
    source = "../modules/cache"
  }
  variables {
    name              = "timeline-test"
    node_type         = "cache.t4g.micro"
    subnet_ids        = ["subnet-a", "subnet-b"]
    security_group_id = "sg-cache"
  }
  assert {
    condition     = aws_elasticache_replication_group.this.at_rest_encryption_enabled && aws_elasticache_replication_group.this.transit_encryption_enabled && aws_elasticache_replication_group.this.kms_key_id == var.kms_key_arn
    error_message = "Redis must be encrypted at rest (KMS) and in transit."
  }
  assert {
    condition     = aws_elasticache_replication_group.this.multi_az_enabled && aws_elasticache_replication_group.this.automatic_failover_enabled && aws_elasticache_replication_group.this.num_cache_clusters >= 2
    error_message = "Redis must be Multi-AZ with automatic failover."
  }
  assert {
    condition     = aws_elasticache_replication_group.this.auth_token == aws_secretsmanager_secret_version.auth[0].secret_string && aws_secretsmanager_secret.auth[0].kms_key_id == var.kms_key_arn
    error_message = "The AUTH token must come from an encrypted Secrets Manager secret."
  }
  assert {
    condition     = length(aws_elasticache_global_replication_group.this) == 0
    error_message = "No Global Datastore unless asked for."
  }
}

run "cache_global_datastore_on_request" {
  command = apply
  module {
    source = "../modules/cache"
  }
  variables {
    name                     = "timeline-test"
    node_type                = "cache.r6g.large"
    subnet_ids               = ["subnet-a", "subnet-b"]
    security_group_id        = "sg-cache"
    global_datastore_enabled = true
  }
  assert {
    condition     = length(aws_elasticache_global_replication_group.this) == 1
    error_message = "global_datastore_enabled must create the Global Datastore."
  }
}

run "compute_service_behind_https" {
  command = apply
  module {
    source = "../modules/compute"
  }
  variables {
    name_prefix           = "timeline-test"
    region_code           = "use1"
    vpc_id                = "vpc-1"
    public_subnet_ids     = ["subnet-p1", "subnet-p2"]
    private_subnet_ids    = ["subnet-a", "subnet-b"]
    alb_security_group_id = "sg-alb"
    app_security_group_id = "sg-app"
    certificate_arn       = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    access_logs_bucket    = "timeline-test-logs"
    parameter_path        = "/timeline/test"
    secrets               = { DATABASE_CREDENTIALS = "arn:aws:secretsmanager:us-east-1:123456789012:secret:timeline-test/app-AbCdEf" }
    desired_count         = 2
    min_count             = 2
    max_count             = 4
  }
  assert {
    condition     = aws_ecr_repository.app.image_tag_mutability == "IMMUTABLE" && aws_ecr_repository.app.image_scanning_configuration[0].scan_on_push && aws_ecr_repository.app.encryption_configuration[0].encryption_type == "KMS"
    error_message = "ECR: immutable tags, scan on push, KMS."
  }
  assert {
    condition     = aws_lb_listener.https.protocol == "HTTPS" && aws_lb_listener.https.port == 443 && startswith(aws_lb_listener.https.ssl_policy, "ELBSecurityPolicy-TLS13-1-2")
    error_message = "The ALB listens on HTTPS with TLS 1.2+ only."
  }
  assert {
    condition     = aws_lb_target_group.app.health_check[0].path == "/health"
    error_message = "The target group health check is /health."
  }
  assert {
    condition     = aws_ecs_service.app.network_configuration[0].assign_public_ip == false && one(aws_ecs_service.app.capacity_provider_strategy).capacity_provider == "FARGATE"
    error_message = "The service runs on on-demand Fargate in private subnets."
  }
  assert {
    condition     = one(aws_ecs_cluster_capacity_providers.this.default_capacity_provider_strategy).capacity_provider == "FARGATE_SPOT"
    error_message = "Non-critical tasks default to Fargate Spot."
  }
  assert {
    condition     = [for c in jsondecode(aws_ecs_task_definition.app.container_definitions) : c.name] == ["app", "xray-daemon"] && jsondecode(aws_ecs_task_definition.app.container_definitions)[0].secrets[0].name == "DATABASE_CREDENTIALS"
    error_message = "The task runs the app with secrets from Secrets Manager and an X-Ray sidecar."
  }
  assert {
    condition     = aws_appautoscaling_policy.cpu.target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ECSServiceAverageCPUUtilization" && aws_appautoscaling_policy.memory.target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ECSServiceAverageMemoryUtilization"
    error_message = "The service scales on CPU and memory."
  }
  assert {
    condition     = aws_cloudwatch_log_group.app.kms_key_id == var.kms_key_arn
    error_message = "App logs are KMS-encrypted."
  }
}

run "cdn_tls_and_origin_access_control" {
  command = apply
  module {
    source = "../modules/cdn"
  }
  variables {
    name                               = "timeline-test"
    aliases                            = ["www.test.timeline.example.com"]
    certificate_arn                    = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    assets_bucket_regional_domain_name = "timeline-test-assets.s3.us-east-1.amazonaws.com"
    assets_copy_regional_domain_name   = "timeline-test-assets-copy.s3.us-west-2.amazonaws.com"
    api_active_domain                  = "api.usw2.test.timeline.example.com"
    api_standby_domain                 = "api.use1.test.timeline.example.com"
    logs_bucket_domain_name            = "timeline-test-logs.s3.amazonaws.com"
  }
  assert {
    condition     = aws_cloudfront_distribution.this.viewer_certificate[0].minimum_protocol_version == "TLSv1.2_2021"
    error_message = "CloudFront must require TLS 1.2+."
  }
  assert {
    condition     = length([for o in aws_cloudfront_distribution.this.origin : o if o.origin_access_control_id == aws_cloudfront_origin_access_control.assets.id && o.origin_id == "assets"]) == 1
    error_message = "The assets origin is reached through origin access control."
  }
  assert {
    condition     = toset([for g in aws_cloudfront_distribution.this.origin_group : g.origin_id]) == toset(["api-group", "assets-group"]) && length(aws_cloudfront_distribution.this.logging_config) == 1
    error_message = "The API and the assets fail over through origin groups and access is logged."
  }
  assert {
    condition     = one([for o in aws_cloudfront_distribution.this.origin : o.domain_name if o.origin_id == "api"]) == var.api_active_domain && one([for o in aws_cloudfront_distribution.this.origin : o.domain_name if o.origin_id == "api-standby"]) == var.api_standby_domain
    error_message = "The api origin dr repoints is declared on the active region (an apply after a failover leaves it there), the standby origin on the other."
  }
}

run "monitoring_alarms_and_encrypted_topic" {
  command = apply
  module {
    source = "../modules/monitoring"
  }
  variables {
    name                    = "timeline-test"
    environment             = "dev"
    region_code             = "usw2"
    alb_arn_suffix          = "app/timeline-test/0123456789abcdef"
    target_group_arn_suffix = "targetgroup/timeline-test/0123456789abcdef"
    ecs_cluster_name        = "timeline-test"
    ecs_service_name        = "api"
    db_identifier           = "timeline-test-main-dr"
    db_is_replica           = true
    cache                   = { replication_group_id = "timeline-test", node_count = 2 }
    budget                  = { limit_usd = 100, emails = ["finance@timeline.example.com"] }
  }
  assert {
    condition     = aws_sns_topic.alerts.kms_master_key_id == var.kms_key_arn
    error_message = "The alerts topic is KMS-encrypted."
  }
  assert {
    condition     = contains(keys(aws_cloudwatch_metric_alarm.rds), "rds-replica-lag") && length(aws_cloudwatch_metric_alarm.cache) == 4 && length(aws_cloudwatch_metric_alarm.ecs) == 2
    error_message = "Replica lag, Redis CPU/evictions per node and ECS CPU/memory alarms exist."
  }
  assert {
    condition     = length(aws_xray_sampling_rule.app) == 1 && length(aws_budgets_budget.monthly) == 1
    error_message = "X-Ray sampling rule and budget exist when enabled."
  }
}

run "dr_inventory_written_to_ssm" {
  command = apply
  module {
    source = "../modules/dr-inventory"
  }
  variables {
    parameter_prefix = "/timeline/test/dr"
    app_parameters   = { "/timeline/test/db_host" = "db.example" }
    inventory = {
      app           = "timeline"
      environment   = "dev"
      region        = "us-east-1"
      role          = "primary"
      databases     = [{ name = "main", identifier = "timeline-test-main" }]
      dns           = []
      cdn           = []
      services      = []
      parameters    = [{ name = "/timeline/test/db_host", value = "db.example" }]
      health        = []
      sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:timeline-test-alerts"
      lock_table    = "timeline-test-locks"
    }
  }
  assert {
    condition     = jsondecode(aws_ssm_parameter.inventory.value).role == "primary" && aws_ssm_parameter.inventory.name == "/timeline/test/dr/inventory/primary"
    error_message = "The inventory is written as JSON to SSM."
  }
  assert {
    condition     = aws_ssm_parameter.app["/timeline/test/db_host"].value == "db.example"
    error_message = "App parameters are written with this region's value."
  }
}

run "routing_controls_one_per_side_with_recovery_control_checks" {
  command = apply
  module {
    source = "../modules/routing-controls"
  }
  override_data {
    target = data.aws_region.current
    values = { name = "us-west-2" }
  }
  override_resource {
    target = aws_route53recoverycontrolconfig_routing_control.side["secondary"]
    values = { arn = "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b2c3d/routingcontrol/secondary" }
  }
  variables {
    name = "timeline-test"
  }
  assert {
    condition     = length(aws_route53recoverycontrolconfig_cluster.this) == 1 && toset(keys(aws_route53recoverycontrolconfig_routing_control.side)) == toset(["primary", "secondary"])
    error_message = "One cluster, one routing control per side."
  }
  assert {
    condition     = alltrue([for side, check in aws_route53_health_check.side : check.type == "RECOVERY_CONTROL" && check.routing_control_arn == aws_route53recoverycontrolconfig_routing_control.side[side].arn]) && output.control_arns.secondary != output.control_arns.primary
    error_message = "Each side's health check follows that side's routing control."
  }
  assert {
    condition     = output.cluster_endpoints == [{ region = "us-east-1", url = "https://host-aaaaaa.us-east-1.example.aws/v1" }, { region = "us-west-2", url = "https://host-bbbbbb.us-west-2.example.aws/v1" }]
    error_message = "The cluster's endpoints are output as dr.yaml's routing_control_cluster.endpoints [{region, url}]."
  }
}

run "routing_controls_on_a_shared_cluster" {
  command = apply
  module {
    source = "../modules/routing-controls"
  }
  override_data {
    target = data.aws_region.current
    values = { name = "us-west-2" }
  }
  variables {
    name = "timeline-test"
    existing_cluster = {
      arn       = "arn:aws:route53-recovery-control::123456789012:cluster/shared"
      endpoints = [{ region = "eu-west-1", url = "https://host-cccccc.eu-west-1.example.aws/v1" }]
    }
  }
  assert {
    condition     = length(aws_route53recoverycontrolconfig_cluster.this) == 0 && aws_route53recoverycontrolconfig_control_panel.this.cluster_arn == var.existing_cluster.arn && output.cluster_endpoints == var.existing_cluster.endpoints
    error_message = "With existing_cluster no cluster is created (none is billed here) and its endpoints are passed on."
  }
}

run "routing_controls_need_the_arc_region" {
  command = plan
  module {
    source = "../modules/routing-controls"
  }
  override_data {
    target = data.aws_region.current
    values = { name = "us-east-1" }
  }
  variables {
    name = "timeline-test"
  }
  expect_failures = [aws_route53recoverycontrolconfig_cluster.this]
}

run "dns_routing_controls_make_the_app_record_a_failover_pair" {
  command = apply
  module {
    source = "../modules/dns"
  }
  variables {
    name                          = "timeline-test"
    zone_name                     = "test.timeline.example.com"
    regional_endpoints            = { primary = "api.use1.test.timeline.example.com", secondary = "api.usw2.test.timeline.example.com" }
    routing_control_health_checks = { primary = "hc-primary", secondary = "hc-secondary" }
  }
  assert {
    condition     = length(aws_route53_record.app) == 0 && length(aws_route53_record.app_failover) == 2
    error_message = "In routing-controls mode app.<zone> is a failover pair, not the simple record dr repoints."
  }
  assert {
    condition     = alltrue([for type, side in { PRIMARY = "primary", SECONDARY = "secondary" } : aws_route53_record.app_failover[type].health_check_id == var.routing_control_health_checks[side] && aws_route53_record.app_failover[type].records == toset([var.regional_endpoints[side]]) && aws_route53_record.app_failover[type].failover_routing_policy[0].type == type])
    error_message = "Each side's record is that side's endpoint, on that side's routing-control health check."
  }
  assert {
    condition     = output.app_record == { name = "app.test.timeline.example.com", type = "CNAME", ttl = 60 }
    error_message = "The record dr moves keeps its name, type and TTL."
  }
}

run "dns_records_mode_keeps_the_simple_record" {
  command = apply
  module {
    source = "../modules/dns"
  }
  variables {
    name               = "timeline-test"
    zone_name          = "test.timeline.example.com"
    regional_endpoints = { primary = "api.use1.test.timeline.example.com", secondary = "api.usw2.test.timeline.example.com" }
  }
  assert {
    condition     = length(aws_route53_record.app) == 1 && length(aws_route53_record.app_failover) == 0 && aws_route53_record.app[0].records == toset([var.regional_endpoints.primary])
    error_message = "Records mode: app.<zone> is one simple record on the active side, which dr repoints."
  }
}

run "cdn_assets_fail_over_to_the_copy" {
  command = apply
  module {
    source = "../modules/cdn"
  }
  variables {
    name                               = "timeline-test"
    certificate_arn                    = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    assets_bucket_regional_domain_name = "timeline-test-assets-use1.s3.us-east-1.amazonaws.com"
    assets_copy_regional_domain_name   = "timeline-test-assets-copy-usw2.s3.us-west-2.amazonaws.com"
    api_active_domain                  = "app.test.timeline.example.com"
    api_standby_domain                 = "api.usw2.test.timeline.example.com"
    logs_bucket_domain_name            = "timeline-test-logs.s3.amazonaws.com"
  }
  assert {
    condition     = one([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.target_origin_id if b.path_pattern == "/assets/*"]) == "assets-group" && one([for b in aws_cloudfront_distribution.this.ordered_cache_behavior : b.allowed_methods if b.path_pattern == "/assets/*"]) == toset(["GET", "HEAD"])
    error_message = "/assets/* (GET and HEAD only) goes to the assets origin group."
  }
  assert {
    condition     = one([for g in aws_cloudfront_distribution.this.origin_group : [for m in g.member : m.origin_id] if g.origin_id == "assets-group"]) == ["assets", "assets-copy"] && one([for g in aws_cloudfront_distribution.this.origin_group : g.failover_criteria[0].status_codes if g.origin_id == "assets-group"]) == toset([500, 502, 503, 504])
    error_message = "The group tries the primary's bucket first and fails over to the copy on 5xx."
  }
  assert {
    condition     = one([for o in aws_cloudfront_distribution.this.origin : o.origin_access_control_id if o.origin_id == "assets-copy"]) == aws_cloudfront_origin_access_control.assets.id && one([for o in aws_cloudfront_distribution.this.origin : o.domain_name if o.origin_id == "assets-copy"]) == var.assets_copy_regional_domain_name
    error_message = "The copy is read through origin access control too."
  }
}

run "storage_replicates_assets_and_backups" {
  command = apply
  module {
    source = "../modules/storage"
  }
  variables {
    name_prefix         = "timeline-test"
    region_code         = "use1"
    assets_bucket_name  = "timeline-test-assets-use1-123456789012"
    backups_bucket_name = "timeline-test-backups-use1-123456789012"
    logs_bucket_name    = "timeline-test-logs-use1-123456789012"
    backup_replication = {
      bucket_arn  = "arn:aws:s3:::timeline-test-backups-copy-usw2-123456789012"
      kms_key_arn = "arn:aws:kms:us-west-2:123456789012:key/backups-copy"
    }
    assets_replication = {
      bucket_arn  = "arn:aws:s3:::timeline-test-assets-copy-usw2-123456789012"
      kms_key_arn = "arn:aws:kms:us-west-2:123456789012:key/assets-copy"
    }
  }
  assert {
    condition     = toset(keys(aws_s3_bucket_replication_configuration.this)) == toset(["assets", "backups"]) && aws_s3_bucket_replication_configuration.this["assets"].rule[0].destination[0].bucket == var.assets_replication.bucket_arn && aws_s3_bucket_replication_configuration.this["assets"].rule[0].destination[0].encryption_configuration[0].replica_kms_key_id == var.assets_replication.kms_key_arn
    error_message = "Assets replicate to their copy under the copy region's key, beside the backups."
  }
  assert {
    condition     = aws_s3_bucket_replication_configuration.this["assets"].rule[0].delete_marker_replication[0].status == "Enabled" && aws_s3_bucket_replication_configuration.this["assets"].rule[0].destination[0].storage_class == "STANDARD"
    error_message = "Deletes reach the copy too, and served assets stay in STANDARD."
  }
  assert {
    condition     = aws_iam_role.replication["backups"].name == "timeline-test-use1-backup-replication" && aws_iam_role.replication["assets"].name == "timeline-test-use1-assets-replication"
    error_message = "One replication role per bucket; the backups role keeps its name."
  }
}

run "replica_bucket_is_private_encrypted_and_readable_by_cloudfront" {
  command = apply
  module {
    source = "../modules/replica-bucket"
  }
  variables {
    bucket_name              = "timeline-test-assets-copy-usw2-123456789012"
    purpose                  = "assets-copy"
    kms_key_arn              = "arn:aws:kms:us-west-2:123456789012:key/assets-copy"
    reader_distribution_arns = ["arn:aws:cloudfront::123456789012:distribution/EMOCK"]
  }
  override_data {
    target = data.aws_iam_policy_document.this
    values = { json = "{}" }
  }
  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled" && one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == var.kms_key_arn
    error_message = "The copy is versioned (replication needs it) and encrypted under its own region's key."
  }
  assert {
    condition     = aws_s3_bucket_public_access_block.this.block_public_policy && aws_s3_bucket_public_access_block.this.restrict_public_buckets && aws_s3_bucket_lifecycle_configuration.this.rule[0].noncurrent_version_expiration[0].noncurrent_days == 30
    error_message = "Public access is blocked and replaced versions expire."
  }
}

run "dr_journal_table_keys" {
  command = apply
  module {
    source = "../modules/dr-journal"
  }
  variables {
    table_name  = "timeline-test-dr-journal"
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }
  assert {
    condition     = aws_dynamodb_table.journal.hash_key == "run" && aws_dynamodb_table.journal.range_key == "seq" && toset([for a in aws_dynamodb_table.journal.attribute : "${a.name}:${a.type}"]) == toset(["run:S", "seq:N"])
    error_message = "dr's shared journal: hash key run (S), range key seq (N)."
  }
  assert {
    condition     = aws_dynamodb_table.journal.server_side_encryption[0].kms_key_arn == var.kms_key_arn && aws_dynamodb_table.journal.point_in_time_recovery[0].enabled && aws_dynamodb_table.journal.billing_mode == "PAY_PER_REQUEST"
    error_message = "The journal is KMS-encrypted, recoverable to a point in time, on demand."
  }
}

run "gameday_task_runs_dr_with_any_command" {
  command = apply
  module {
    source = "../modules/gameday"
  }
  override_data {
    target = data.aws_region.current
    values = { name = "us-west-2" }
  }
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }
  variables {
    name                = "timeline-test"
    app                 = "timeline"
    environment         = "test"
    image               = "timeline/dr:0.1.0"
    dr_config_yaml      = "gameday:\n  report_bucket: timeline-test-dr-reports\n"
    cluster_arn         = "arn:aws:ecs:us-west-2:123456789012:cluster/timeline-test"
    subnet_ids          = ["subnet-0a1b2c3d"]
    security_group_ids  = ["sg-0a1b2c3d"]
    kms_key_arn         = "arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555"
    alarm_topic_arn     = "arn:aws:sns:us-west-2:123456789012:timeline-test-alerts"
    schedule_expression = "cron(0 10 ? * TUE *)"
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.gameday.container_definitions)[0].entryPoint == ["/bin/sh", "-c", "printf '%s' \"$DR_CONFIG_YAML\" > \"$DR_CONFIG\" && exec dr \"$@\"", "dr"]
    error_message = "The entry point writes dr.yaml, then execs dr with the container's command as its arguments (an override replaces the command only)."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.gameday.container_definitions)[0].command == ["gameday", "--to", "secondary"] && output.container_name == "dr" && output.task_definition_family == "timeline-test-dr-gameday"
    error_message = "By default the task runs the game day; dr.yaml's runner names its container and family."
  }
  assert {
    condition     = aws_iam_role.task.name == "timeline-test-usw2-dr-task" && aws_iam_role.execution.name == "timeline-test-usw2-dr-execution" && length(aws_scheduler_schedule.gameday) == 1 && length(aws_cloudwatch_metric_alarm.drill_failed_or_missing) == 1
    error_message = "Role names carry the region (IAM is global; both stacks build this module); scheduled, there is a schedule and its alarm."
  }
}

run "gameday_module_as_the_runner_only" {
  command = apply
  module {
    source = "../modules/gameday"
  }
  override_data {
    target = data.aws_region.current
    values = { name = "us-east-1" }
  }
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }
  variables {
    name               = "timeline-test"
    app                = "timeline"
    environment        = "test"
    image              = "timeline/dr:0.1.0"
    dr_config_yaml     = "version: 1\n"
    scheduled          = false
    to                 = "primary"
    cluster_arn        = "arn:aws:ecs:us-east-1:123456789012:cluster/timeline-test"
    subnet_ids         = ["subnet-0a1b2c3d"]
    security_group_ids = ["sg-0a1b2c3d"]
    kms_key_arn        = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }
  assert {
    condition     = length(aws_scheduler_schedule.gameday) == 0 && length(aws_iam_role.scheduler) == 0 && length(aws_cloudwatch_metric_alarm.drill_failed_or_missing) == 0 && output.schedule_arn == null
    error_message = "Not scheduled: only the task definition, its roles and logs (no game-day section needed)."
  }
  assert {
    condition     = aws_iam_role.task.name == "timeline-test-use1-dr-task" && output.task_definition_family == "timeline-test-dr-gameday"
    error_message = "The other region's roles do not collide; the family is the same in both regions."
  }
}

run "gameday_schedule_needs_its_report_bucket" {
  command = plan
  module {
    source = "../modules/gameday"
  }
  override_data {
    target = data.aws_region.current
    values = { name = "us-west-2" }
  }
  variables {
    name               = "timeline-test"
    app                = "timeline"
    environment        = "test"
    image              = "timeline/dr:0.1.0"
    dr_config_yaml     = "version: 1\n"
    cluster_arn        = "arn:aws:ecs:us-west-2:123456789012:cluster/timeline-test"
    subnet_ids         = ["subnet-0a1b2c3d"]
    security_group_ids = ["sg-0a1b2c3d"]
    kms_key_arn        = "arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555"
    alarm_topic_arn    = "arn:aws:sns:us-west-2:123456789012:timeline-test-alerts"
  }
  expect_failures = [aws_scheduler_schedule.gameday]
}

run "cache_auth_secret_replicated_for_the_datastore_secondary" {
  command = apply
  module {
    source = "../modules/cache"
  }
  variables {
    name                       = "timeline-test"
    node_type                  = "cache.r6g.large"
    subnet_ids                 = ["subnet-a", "subnet-b"]
    security_group_id          = "sg-cache"
    global_datastore_enabled   = true
    auth_secret_replica_region = "us-west-2"
  }
  assert {
    condition     = [for r in aws_secretsmanager_secret.auth[0].replica : r.region] == ["us-west-2"]
    error_message = "The AUTH secret has a replica in the secondary's region, where its tasks read it."
  }
}
