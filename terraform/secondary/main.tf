data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name       = "${var.app}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  region_code = {
    for r in [var.primary_region, var.secondary_region] :
    r => join("", [split("-", r)[0], substr(split("-", r)[1], 0, 1), split("-", r)[2]])
  }
  code         = local.region_code[var.secondary_region]
  primary_code = local.region_code[var.primary_region]

  tags = merge(var.tags, {
    App         = var.app
    Environment = var.environment
    Stack       = "secondary"
  })

  endpoint       = "api.${local.code}.${var.zone_name}"
  lock_table     = "${local.name}-locks"
  parameter_path = "/${var.app}/${var.environment}"
  db_identifier  = "${local.name}-main-dr"

  # Derived from the naming convention rather than read from the primary's state,
  # so planning this stack never needs the primary region.
  primary_db_arn = "arn:${data.aws_partition.current.partition}:rds:${var.primary_region}:${local.account_id}:db:${local.name}-main"

  # Where dr left the estate (dr_state, in environments/<env>/dr-state.tfvars, shared with
  # the primary stack): what this region's database is, and so where capacity belongs.
  active  = var.dr_state.active == "secondary"
  db_role = local.active ? "writer" : (var.dr_state.protected ? "replica" : "fenced")

  # The primary's inventory, as the primary stack copies it into this region: the hosted
  # zone and the CloudFront distribution come from it, not from Route 53's or CloudFront's
  # control planes (homed in us-east-1, which may be the region that was lost).
  primary_inventory = jsondecode(data.aws_ssm_parameter.primary_inventory.insecure_value)
  zone_id           = one(distinct([for d in local.primary_inventory.dns : d.zone_id]))
  # Routing-controls mode (the primary's traffic_control): the cluster's endpoints and this
  # side's control, from the same copy rather than ARC's configuration API (us-west-2).
  routing_control_cluster = try(local.primary_inventory.routing_control_cluster, null)

  journal_table = "${local.name}-dr-journal"
  # A member of the primary's Global Datastore: the datastore ID's suffix names it in dr.yaml.
  cache_member = var.cache_enabled && var.cache_global_replication_group_id != null
  app_secrets = merge(
    # By name: ECS resolves it to the replica the primary stack keeps in this region.
    { DATABASE_CREDENTIALS = "${local.name}/app" },
    var.cache_enabled ? {
      # A datastore member uses the primary's AUTH token: by name, the replica of its secret
      # the primary stack keeps in this region (it outlives the primary region).
      REDIS_AUTH = local.cache_member ? "${local.name}/redis-auth" : module.cache[0].auth_secret_arn
    } : {},
  )

  bucket = {
    for purpose in ["assets", "backups", "logs"] :
    purpose => "${local.name}-${purpose}-${local.code}-${local.account_id}"
  }
}

# Every lookup below is in this region, so the stack plans while the primary region, and
# the global control planes homed there, do not answer.

# The copy of the primary's inventory that the primary stack keeps in this region.
data "aws_ssm_parameter" "primary_inventory" {
  name = "${local.parameter_path}/dr/inventory/primary"
}

data "aws_acm_certificate" "this" {
  domain      = "*.${var.zone_name}"
  statuses    = ["ISSUED"]
  most_recent = true
}

module "kms" {
  source = "../modules/kms-key"

  alias_name  = "${local.name}-${local.code}"
  description = "Data of ${local.name} in ${var.secondary_region}, including the read replica"
  service_principals = [
    "logs.${var.secondary_region}.amazonaws.com",
    "cloudwatch.amazonaws.com",
  ]
  tags = local.tags
}

module "network" {
  source = "../modules/network"

  name_prefix        = local.name
  region_code        = local.code
  vpc_cidr           = var.vpc_cidr
  availability_zones = var.availability_zones
  nat_gateway_per_az = var.nat_gateway_per_az
  kms_key_arn        = module.kms.key_arn
  tags               = local.tags
}

module "storage" {
  source = "../modules/storage"

  name_prefix         = local.name
  region_code         = local.code
  assets_bucket_name  = local.bucket["assets"]
  backups_bucket_name = local.bucket["backups"]
  logs_bucket_name    = local.bucket["logs"]
  kms_key_arn         = module.kms.key_arn
  tags                = local.tags
}

module "cache" {
  count  = var.cache_enabled ? 1 : 0
  source = "../modules/cache"

  name                        = local.name
  node_type                   = var.cache_node_type
  subnet_ids                  = module.network.private_subnet_ids
  security_group_id           = module.network.cache_security_group_id
  kms_key_arn                 = module.kms.key_arn
  global_replication_group_id = var.cache_global_replication_group_id
  tags                        = local.tags
}

module "compute" {
  source = "../modules/compute"

  name_prefix           = local.name
  region_code           = local.code
  vpc_id                = module.network.vpc_id
  public_subnet_ids     = module.network.public_subnet_ids
  private_subnet_ids    = module.network.private_subnet_ids
  alb_security_group_id = module.network.alb_security_group_id
  app_security_group_id = module.network.app_security_group_id
  certificate_arn       = data.aws_acm_certificate.this.arn
  access_logs_bucket    = module.storage.logs_bucket_id
  kms_key_arn           = module.kms.key_arn
  parameter_path        = local.parameter_path
  secrets               = local.app_secrets
  task_cpu              = var.task_cpu
  task_memory           = var.task_memory
  desired_count         = local.active ? var.active_count : var.standby_count
  min_count             = local.active ? var.active_count : var.standby_count
  max_count             = var.max_count
  deletion_protection   = var.deletion_protection
  tags                  = local.tags
}

resource "aws_route53_record" "regional_endpoint" {
  zone_id = local.zone_id
  name    = local.endpoint
  type    = "A"

  alias {
    name                   = module.compute.alb_dns_name
    zone_id                = module.compute.alb_zone_id
    evaluate_target_health = true
  }
}

module "database" {
  source = "../modules/database"

  identifier          = local.db_identifier
  region_code         = local.code
  source_db_arn       = local.primary_db_arn
  created_as_replica  = true
  role                = local.db_role
  instance_class      = var.db_instance_class
  multi_az            = var.db_multi_az
  deletion_protection = var.deletion_protection
  kms_key_arn         = module.kms.key_arn
  subnet_ids          = module.network.private_subnet_ids
  security_group_id   = module.network.db_security_group_id
  tags                = local.tags
}

# Once dr has retired the instance Terraform created, the one under its name is followed by
# name (modules/database, "adopted"); the retired one stays fenced, under its new name.
import {
  for_each = module.database.retired_identifier == null ? toset([]) : toset([local.db_identifier])
  to       = module.database.aws_db_instance.adopted[0]
  id       = each.value
}

module "monitoring" {
  source = "../modules/monitoring"

  name                       = local.name
  environment                = var.environment
  region_code                = local.code
  kms_key_arn                = module.kms.key_arn
  alert_emails               = var.alert_emails
  alb_arn_suffix             = module.compute.alb_arn_suffix
  target_group_arn_suffix    = module.compute.target_group_arn_suffix
  ecs_cluster_name           = module.compute.cluster_name
  ecs_service_name           = module.compute.service_name
  db_identifier              = module.database.identifier
  db_is_replica              = local.db_role == "replica"
  cache                      = var.cache_enabled ? { replication_group_id = local.name, node_count = module.cache[0].node_count } : null
  xray_sampling_rule_enabled = var.xray_sampling_rule_enabled
  tags                       = local.tags
}

module "compliance" {
  count  = var.config_recorder_enabled ? 1 : 0
  source = "../modules/compliance"

  name        = local.name
  region_code = local.code
  bucket_name = module.storage.logs_bucket_id
  tags        = local.tags
}

locals {
  app_parameters = {
    "${local.parameter_path}/db_host" = module.database.address
  }

  dr_inventory = {
    app         = var.app
    environment = var.environment
    region      = var.secondary_region
    role        = "secondary"
    databases   = [{ name = "main", identifier = module.database.identifier }]
    dns = [{
      zone_id         = local.zone_id
      name            = "app.${var.zone_name}"
      type            = "CNAME"
      ttl             = 60
      value           = local.endpoint
      routing_control = local.routing_control_cluster == null ? null : local.routing_control_cluster.controls.secondary
    }]
    cdn = [for c in local.primary_inventory.cdn : {
      distribution_id = c.distribution_id
      origin_id       = c.origin_id
      domain          = local.endpoint
    }]
    services = [{
      cluster       = module.compute.cluster_name
      service       = module.compute.service_name
      active_count  = var.active_count
      standby_count = var.standby_count
    }]
    parameters              = [for k, v in local.app_parameters : { name = k, value = v }]
    health                  = [{ name = "api", url = "https://${local.endpoint}/health", expect_status = 200 }]
    sns_topic_arn           = module.monitoring.sns_topic_arn
    lock_table              = local.lock_table
    routing_control_cluster = local.routing_control_cluster
    caches = local.cache_member ? [{
      name                 = "redis"
      global_group         = one(regex("^[a-z]{5}-(.+)$", var.cache_global_replication_group_id))
      replication_group_id = module.cache[0].replication_group_id
    }] : []
    journal_table = module.dr_journal.table_name
    runner = var.gameday_image == null ? null : {
      cluster         = module.compute.cluster_name
      task_definition = module.gameday[0].task_definition_family
      container       = module.gameday[0].container_name
      subnets         = module.network.private_subnet_ids
      security_groups = [module.network.app_security_group_id]
    }
  }
}

module "dr_journal" {
  source = "../modules/dr-journal"

  table_name          = local.journal_table
  kms_key_arn         = module.kms.key_arn
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

module "dr_inventory" {
  source = "../modules/dr-inventory"

  parameter_prefix = "${local.parameter_path}/dr"
  app_parameters   = local.app_parameters
  inventory        = local.dr_inventory
  tags             = local.tags
}

# The scheduled game day runs in the recovery region, so it exercises the failover from the
# side that must survive; its task role holds exactly the policy dr generates. The same task
# definition is the runner `dr failover --remote` starts here (a command override).
module "gameday" {
  source = "../modules/gameday"
  count  = var.gameday_image == null ? 0 : 1

  name                = local.name
  app                 = var.app
  environment         = var.environment
  image               = var.gameday_image
  dr_config_yaml      = var.gameday_dr_config_yaml
  schedule_expression = var.gameday_schedule_expression
  cluster_arn         = "arn:${data.aws_partition.current.partition}:ecs:${var.secondary_region}:${local.account_id}:cluster/${module.compute.cluster_name}"
  subnet_ids          = module.network.private_subnet_ids
  security_group_ids  = [module.network.app_security_group_id]
  kms_key_arn         = module.kms.key_arn
  alarm_topic_arn     = module.monitoring.sns_topic_arn
  tags                = local.tags
}
