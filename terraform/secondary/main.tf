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

  bucket = {
    for purpose in ["assets", "backups", "logs"] :
    purpose => "${local.name}-${purpose}-${local.code}-${local.account_id}"
  }
}

# Route 53 and ACM lookups below are global or in this region; both keep working
# when the primary region is lost.
data "aws_route53_zone" "this" {
  name         = var.zone_name
  private_zone = false
}

# The copy of the primary's inventory that the primary stack keeps in this
# region: where the CloudFront distribution dr repoints lives.
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
  secrets = merge(
    # By name: ECS resolves it to the replica the primary stack keeps in this region.
    { DATABASE_CREDENTIALS = "${local.name}/app" },
    var.cache_enabled && var.cache_global_replication_group_id == null ? { REDIS_AUTH = module.cache[0].auth_secret_arn } : {},
  )
  task_cpu            = var.task_cpu
  task_memory         = var.task_memory
  desired_count       = var.standby_count
  min_count           = var.standby_count
  max_count           = var.max_count
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

resource "aws_route53_record" "regional_endpoint" {
  zone_id = data.aws_route53_zone.this.zone_id
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

  identifier           = local.db_identifier
  region_code          = local.code
  source_db_arn        = local.primary_db_arn
  promoted             = var.database_promoted
  instance_class       = var.db_instance_class
  multi_az             = var.db_multi_az
  deletion_protection  = var.deletion_protection
  kms_key_arn          = module.kms.key_arn
  subnet_group_enabled = var.db_subnet_group_enabled
  subnet_ids           = module.network.private_subnet_ids
  security_group_id    = module.network.db_security_group_id
  tags                 = local.tags
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
  db_is_replica              = !var.database_promoted
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
      zone_id = data.aws_route53_zone.this.zone_id
      name    = "app.${var.zone_name}"
      type    = "CNAME"
      ttl     = 60
      value   = local.endpoint
    }]
    cdn = [for c in jsondecode(data.aws_ssm_parameter.primary_inventory.insecure_value).cdn : {
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
    parameters    = [for k, v in local.app_parameters : { name = k, value = v }]
    health        = [{ name = "api", url = "https://${local.endpoint}/health", expect_status = 200 }]
    sns_topic_arn = module.monitoring.sns_topic_arn
    lock_table    = local.lock_table
  }
}

module "dr_inventory" {
  source = "../modules/dr-inventory"

  parameter_prefix = "${local.parameter_path}/dr"
  app_parameters   = local.app_parameters
  inventory        = local.dr_inventory
  tags             = local.tags
}

# The scheduled game day runs in the recovery region, so it exercises the failover from the
# side that must survive; its task role holds exactly the policy dr generates.
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
