data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name       = "${var.app}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  # us-east-1 -> use1: short, stable names for per-region resources and host names.
  region_code = {
    for r in [var.primary_region, var.secondary_region] :
    r => join("", [split("-", r)[0], substr(split("-", r)[1], 0, 1), split("-", r)[2]])
  }
  code      = local.region_code[var.primary_region]
  peer_code = local.region_code[var.secondary_region]

  tags = merge(var.tags, {
    App         = var.app
    Environment = var.environment
    Stack       = "primary"
  })

  # The regional endpoints are names in the zone, not the ALBs' own names, so the
  # two stacks, CloudFront and dr can refer to each other without a dependency.
  endpoint = {
    primary   = "api.${local.code}.${var.zone_name}"
    secondary = "api.${local.peer_code}.${var.zone_name}"
  }

  bucket = {
    for purpose in ["assets", "backups", "logs"] :
    purpose => "${local.name}-${purpose}-${local.code}-${local.account_id}"
  }
  backup_copy_bucket = "${local.name}-backups-copy-${local.peer_code}-${local.account_id}"
  assets_copy_bucket = "${local.name}-assets-copy-${local.peer_code}-${local.account_id}"
  lock_table         = "${local.name}-locks"
  journal_table      = "${local.name}-dr-journal"
  # routing_controls: app.<zone> is a failover pair that ARC routing controls drive, and
  # CloudFront's api origin is that name, so neither needs a control-plane change to move.
  routing_controls = var.traffic_control == "routing_controls"
  failover_name    = "app.${var.zone_name}"
  parameter_path   = "/${var.app}/${var.environment}"
  db_identifier    = "${local.name}-main"

  # Where dr left the estate (dr_state, in environments/<env>/dr-state.tfvars, shared with
  # the secondary stack): what this region's database is, and so where traffic and capacity
  # belong. The peer is the standby's database, named by the same convention.
  active             = var.dr_state.active == "primary"
  db_role            = local.active ? "writer" : (var.dr_state.protected ? "replica" : "fenced")
  peer_db_role       = !local.active ? "writer" : (var.dr_state.protected ? "replica" : "fenced")
  peer_db_identifier = "${local.name}-main-dr"
  peer_db_arn        = "arn:${data.aws_partition.current.partition}:rds:${var.secondary_region}:${local.account_id}:db:${local.peer_db_identifier}"
}

module "kms" {
  source = "../modules/kms-key"

  alias_name  = "${local.name}-${local.code}"
  description = "Data of ${local.name} in ${var.primary_region}"
  service_principals = [
    "logs.${var.primary_region}.amazonaws.com",
    "cloudwatch.amazonaws.com",
    "cloudfront.amazonaws.com",
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

module "backup_copy_kms" {
  source    = "../modules/kms-key"
  providers = { aws = aws.secondary }

  alias_name  = "${local.name}-${local.peer_code}-backup-copy"
  description = "Cross-region copy of ${local.name} backups"
  tags        = local.tags
}

# Copies in the standby region that S3 replication fills: the backups, and the static assets
# CloudFront fails over to. Data at rest a failover does not change, so they belong to this
# stack, the owner of their sources, and the standby stays operable without its state.
module "backup_copy" {
  source    = "../modules/replica-bucket"
  providers = { aws = aws.secondary }

  bucket_name = local.backup_copy_bucket
  purpose     = "backup-copy"
  kms_key_arn = module.backup_copy_kms.key_arn
  tags        = local.tags
}

moved {
  from = aws_s3_bucket.backup_copy
  to   = module.backup_copy.aws_s3_bucket.this
}

moved {
  from = aws_s3_bucket_versioning.backup_copy
  to   = module.backup_copy.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.backup_copy
  to   = module.backup_copy.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_public_access_block.backup_copy
  to   = module.backup_copy.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_policy.backup_copy
  to   = module.backup_copy.aws_s3_bucket_policy.this
}

# CloudFront reads the assets copy through origin access control: its key admits CloudFront.
module "assets_copy_kms" {
  source    = "../modules/kms-key"
  providers = { aws = aws.secondary }

  alias_name         = "${local.name}-${local.peer_code}-assets-copy"
  description        = "Cross-region copy of ${local.name} static assets, a CloudFront origin"
  service_principals = ["cloudfront.amazonaws.com"]
  tags               = local.tags
}

module "assets_copy" {
  source    = "../modules/replica-bucket"
  providers = { aws = aws.secondary }

  bucket_name              = local.assets_copy_bucket
  purpose                  = "assets-copy"
  kms_key_arn              = module.assets_copy_kms.key_arn
  reader_distribution_arns = var.cdn_enabled ? [module.cdn[0].distribution_arn] : []
  tags                     = local.tags
}

module "storage" {
  source = "../modules/storage"

  name_prefix                     = local.name
  region_code                     = local.code
  assets_bucket_name              = local.bucket["assets"]
  backups_bucket_name             = local.bucket["backups"]
  logs_bucket_name                = local.bucket["logs"]
  kms_key_arn                     = module.kms.key_arn
  assets_reader_distribution_arns = var.cdn_enabled ? [module.cdn[0].distribution_arn] : []
  backup_replication = {
    bucket_arn  = module.backup_copy.bucket_arn
    kms_key_arn = module.backup_copy_kms.key_arn
  }
  assets_replication = {
    bucket_arn  = module.assets_copy.bucket_arn
    kms_key_arn = module.assets_copy_kms.key_arn
  }
  tags = local.tags
}

module "routing_controls" {
  count     = local.routing_controls ? 1 : 0
  source    = "../modules/routing-controls"
  providers = { aws = aws.arc }

  name             = local.name
  existing_cluster = var.routing_control_cluster
  tags             = local.tags
}

module "dns" {
  source = "../modules/dns"

  name                          = local.name
  zone_name                     = var.zone_name
  regional_endpoints            = local.endpoint
  active                        = var.dr_state.active
  routing_control_health_checks = local.routing_controls ? module.routing_controls[0].health_check_ids : null
  cdn                           = var.cdn_enabled ? { domain_name = module.cdn[0].domain_name, hosted_zone_id = module.cdn[0].hosted_zone_id } : null
  tags                          = local.tags
}

# One wildcard set covers the shared names (api., app., www.) and both regional
# names; the same validation records serve the certificate in every region.
locals {
  certificate_domains = ["*.${var.zone_name}", "*.${local.code}.${var.zone_name}", "*.${local.peer_code}.${var.zone_name}"]
}

resource "aws_acm_certificate" "regional" {
  domain_name               = local.certificate_domains[0]
  subject_alternative_names = slice(local.certificate_domains, 1, 3)
  validation_method         = "DNS"
  tags                      = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_acm_certificate" "secondary" {
  provider                  = aws.secondary
  domain_name               = local.certificate_domains[0]
  subject_alternative_names = slice(local.certificate_domains, 1, 3)
  validation_method         = "DNS"
  tags                      = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_acm_certificate" "cdn" {
  provider                  = aws.global
  domain_name               = local.certificate_domains[0]
  subject_alternative_names = slice(local.certificate_domains, 1, 3)
  validation_method         = "DNS"
  tags                      = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

# Keyed by the domains written above rather than by the certificate's computed
# options, so the set of records is known at plan time.
resource "aws_route53_record" "certificate_validation" {
  for_each        = toset(local.certificate_domains)
  zone_id         = module.dns.zone_id
  name            = one([for o in aws_acm_certificate.regional.domain_validation_options : o.resource_record_name if o.domain_name == each.key])
  type            = one([for o in aws_acm_certificate.regional.domain_validation_options : o.resource_record_type if o.domain_name == each.key])
  ttl             = 300
  records         = [one([for o in aws_acm_certificate.regional.domain_validation_options : o.resource_record_value if o.domain_name == each.key])]
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "regional" {
  certificate_arn         = aws_acm_certificate.regional.arn
  validation_record_fqdns = [for r in aws_route53_record.certificate_validation : r.fqdn]
}

resource "aws_acm_certificate_validation" "secondary" {
  provider                = aws.secondary
  certificate_arn         = aws_acm_certificate.secondary.arn
  validation_record_fqdns = [for r in aws_route53_record.certificate_validation : r.fqdn]
}

resource "aws_acm_certificate_validation" "cdn" {
  provider                = aws.global
  certificate_arn         = aws_acm_certificate.cdn.arn
  validation_record_fqdns = [for r in aws_route53_record.certificate_validation : r.fqdn]
}

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:the app's database credentials rotate with the database user, driven by the release process
  name                    = "${local.name}/app"
  description             = "Database credentials of the app user; value set when the user is created, replicated to the standby"
  kms_key_id              = module.kms.key_arn
  recovery_window_in_days = 7

  replica {
    region = var.secondary_region
  }

  tags = local.tags
}

module "cache" {
  count  = var.cache_enabled ? 1 : 0
  source = "../modules/cache"

  name                     = local.name
  node_type                = var.cache_node_type
  subnet_ids               = module.network.private_subnet_ids
  security_group_id        = module.network.cache_security_group_id
  kms_key_arn              = module.kms.key_arn
  global_datastore_enabled = var.cache_global_datastore_enabled
  # The datastore's members share one AUTH token: the standby's tasks read this secret's
  # replica in their own region, by name.
  auth_secret_replica_region = var.cache_global_datastore_enabled ? var.secondary_region : null
  tags                       = local.tags
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
  certificate_arn       = aws_acm_certificate_validation.regional.certificate_arn
  access_logs_bucket    = module.storage.logs_bucket_id
  kms_key_arn           = module.kms.key_arn
  parameter_path        = local.parameter_path
  secrets = merge(
    { DATABASE_CREDENTIALS = aws_secretsmanager_secret.app.arn },
    var.cache_enabled ? { REDIS_AUTH = module.cache[0].auth_secret_arn } : {},
  )
  task_cpu            = var.task_cpu
  task_memory         = var.task_memory
  desired_count       = local.active ? var.active_count : var.standby_count
  min_count           = local.active ? var.active_count : var.standby_count
  max_count           = var.max_count
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

resource "aws_route53_record" "regional_endpoint" {
  zone_id = module.dns.zone_id
  name    = local.endpoint.primary
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
  source_db_arn       = local.peer_db_arn
  role                = local.db_role
  instance_class      = var.db_instance_class
  allocated_storage   = var.db_allocated_storage
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

# The standby's database, read in its region: the dr_state given must agree with it too. A
# region lost during a failover comes back with its old writer unfenced, and only the standby
# then shows that traffic must not return here.
data "aws_db_instances" "peer" {
  provider = aws.secondary
  filter {
    name   = "db-instance-id"
    values = [local.peer_db_identifier]
  }
}

data "aws_db_instance" "peer" {
  count                  = length(data.aws_db_instances.peer.instance_identifiers)
  provider               = aws.secondary
  db_instance_identifier = local.peer_db_identifier

  lifecycle {
    postcondition {
      condition     = try(length(self.replicate_source_db) > 0, false) == (local.peer_db_role == "replica")
      error_message = "dr_state says ${local.peer_db_identifier} in ${var.secondary_region} is ${local.peer_db_role == "replica" ? "a read replica" : "no replica"}, and it is not: set dr_state as the follow-up of dr's last failover, reprotect or failback says (terraform/README.md, \"After a failover\")."
    }
  }
}

module "cdn" {
  count  = var.cdn_enabled ? 1 : 0
  source = "../modules/cdn"

  name                               = local.name
  aliases                            = ["www.${var.zone_name}"]
  certificate_arn                    = aws_acm_certificate_validation.cdn.certificate_arn
  assets_bucket_regional_domain_name = module.storage.assets_bucket_regional_domain_name
  assets_copy_regional_domain_name   = module.assets_copy.bucket_regional_domain_name
  # Routing controls: the failover name, which follows the controls with no CloudFront change.
  api_active_domain       = local.routing_controls ? local.failover_name : local.endpoint[var.dr_state.active]
  api_standby_domain      = local.endpoint[var.dr_state.active == "primary" ? "secondary" : "primary"]
  logs_bucket_domain_name = module.storage.logs_bucket_domain_name
  tags                    = local.tags
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
  budget                     = var.budget_limit_usd == null ? null : { limit_usd = var.budget_limit_usd, emails = var.budget_emails }
  tags                       = local.tags
}

module "compliance" {
  count  = var.config_recorder_enabled ? 1 : 0
  source = "../modules/compliance"

  name                     = local.name
  region_code              = local.code
  bucket_name              = module.storage.logs_bucket_id
  include_global_resources = true
  tags                     = local.tags
}

locals {
  app_parameters = {
    "${local.parameter_path}/db_host" = module.database.address
  }

  dr_inventory = {
    app         = var.app
    environment = var.environment
    region      = var.primary_region
    role        = "primary"
    databases   = [{ name = "main", identifier = module.database.identifier }]
    dns = [{
      zone_id         = module.dns.zone_id
      name            = module.dns.app_record.name
      type            = module.dns.app_record.type
      ttl             = module.dns.app_record.ttl
      value           = local.endpoint.primary
      routing_control = local.routing_controls ? module.routing_controls[0].control_arns.primary : null
    }]
    # With routing controls the origin is the failover name: dr changes nothing in CloudFront.
    cdn = var.cdn_enabled && !local.routing_controls ? [{
      distribution_id = module.cdn[0].distribution_id
      origin_id       = module.cdn[0].api_origin_id
      domain          = local.endpoint.primary
    }] : []
    services = [{
      cluster       = module.compute.cluster_name
      service       = module.compute.service_name
      active_count  = var.active_count
      standby_count = var.standby_count
    }]
    parameters    = [for k, v in local.app_parameters : { name = k, value = v }]
    health        = [{ name = "api", url = "https://${local.endpoint.primary}/health", expect_status = 200 }]
    sns_topic_arn = module.monitoring.sns_topic_arn
    lock_table    = local.lock_table
    routing_control_cluster = local.routing_controls ? {
      endpoints = module.routing_controls[0].cluster_endpoints
      controls  = module.routing_controls[0].control_arns
    } : null
    caches = var.cache_enabled && var.cache_global_datastore_enabled ? [{
      name                 = "redis"
      global_group         = local.name # the datastore's ID suffix (modules/cache)
      replication_group_id = module.cache[0].replication_group_id
    }] : []
    journal_table = module.dr_journal.table_name
    runner = var.runner_image == null ? null : {
      cluster         = module.compute.cluster_name
      task_definition = module.runner[0].task_definition_family
      container       = module.runner[0].container_name
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

# The task `dr failover --remote --to primary` starts here (a failback run from inside this
# region); the scheduled game day is the secondary stack's.
module "runner" {
  source = "../modules/gameday"
  count  = var.runner_image == null ? 0 : 1

  name               = local.name
  app                = var.app
  environment        = var.environment
  image              = var.runner_image
  dr_config_yaml     = var.runner_dr_config_yaml
  scheduled          = false
  to                 = "primary"
  cluster_arn        = "arn:${data.aws_partition.current.partition}:ecs:${var.primary_region}:${local.account_id}:cluster/${module.compute.cluster_name}"
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [module.network.app_security_group_id]
  kms_key_arn        = module.kms.key_arn
  tags               = local.tags
}

module "dr_inventory" {
  source = "../modules/dr-inventory"

  parameter_prefix = "${local.parameter_path}/dr"
  app_parameters   = local.app_parameters
  inventory        = local.dr_inventory
  tags             = local.tags
}

# A copy in the standby region, so that both sides of dr.yaml can be rebuilt
# there while the primary region (and this stack's state) is unreachable. The
# secondary stack writes nothing into the primary region: it must not need it.
resource "aws_ssm_parameter" "dr_inventory_copy" {
  #checkov:skip=CKV2_AWS_34:the inventory holds resource names and endpoints, no secrets
  provider    = aws.secondary
  name        = module.dr_inventory.inventory_parameter_name
  description = "DR inventory of the primary stack, kept in the standby region (JSON)"
  type        = "String"
  tier        = length(module.dr_inventory.document) > 4096 ? "Advanced" : "Standard"
  value       = module.dr_inventory.document
  tags        = local.tags
}
