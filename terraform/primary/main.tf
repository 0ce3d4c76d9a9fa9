data "aws_caller_identity" "current" {}

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
  lock_table         = "${local.name}-locks"
  parameter_path     = "/${var.app}/${var.environment}"
  db_identifier      = "${local.name}-main"
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

resource "aws_s3_bucket" "backup_copy" {
  #checkov:skip=CKV_AWS_144:this bucket is itself the cross-region copy
  #checkov:skip=CKV_AWS_18:written only by S3 replication, which CloudTrail records
  #checkov:skip=CKV2_AWS_62:nothing consumes its events
  #checkov:skip=CKV2_AWS_61:objects arrive with the source's lifecycle-managed storage class and are expired by replicated delete markers
  provider = aws.secondary
  bucket   = local.backup_copy_bucket
  tags     = merge(local.tags, { Name = local.backup_copy_bucket, Purpose = "backup-copy" })
}

resource "aws_s3_bucket_versioning" "backup_copy" {
  provider = aws.secondary
  bucket   = aws_s3_bucket.backup_copy.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "backup_copy" {
  provider = aws.secondary
  bucket   = aws_s3_bucket.backup_copy.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.backup_copy_kms.key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "backup_copy" {
  provider                = aws.secondary
  bucket                  = aws_s3_bucket.backup_copy.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "backup_copy" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.backup_copy.arn,
      "${aws_s3_bucket.backup_copy.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "backup_copy" {
  provider   = aws.secondary
  bucket     = aws_s3_bucket.backup_copy.id
  policy     = data.aws_iam_policy_document.backup_copy.json
  depends_on = [aws_s3_bucket_public_access_block.backup_copy]
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
    bucket_arn  = aws_s3_bucket.backup_copy.arn
    kms_key_arn = module.backup_copy_kms.key_arn
  }
  backup_replication_enabled = var.backup_replication_enabled
  tags                       = local.tags

  depends_on = [aws_s3_bucket_versioning.backup_copy]
}

module "dns" {
  source = "../modules/dns"

  name               = local.name
  zone_name          = var.zone_name
  regional_endpoints = local.endpoint
  cdn                = var.cdn_enabled ? { domain_name = module.cdn[0].domain_name, hosted_zone_id = module.cdn[0].hosted_zone_id } : null
  tags               = local.tags
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
  tags                     = local.tags
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
  desired_count       = var.active_count
  min_count           = var.active_count
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
  instance_class      = var.db_instance_class
  allocated_storage   = var.db_allocated_storage
  multi_az            = var.db_multi_az
  deletion_protection = var.deletion_protection
  kms_key_arn         = module.kms.key_arn
  subnet_ids          = module.network.private_subnet_ids
  security_group_id   = module.network.db_security_group_id
  tags                = local.tags
}

module "cdn" {
  count  = var.cdn_enabled ? 1 : 0
  source = "../modules/cdn"

  name                               = local.name
  aliases                            = ["www.${var.zone_name}"]
  certificate_arn                    = aws_acm_certificate_validation.cdn.certificate_arn
  assets_bucket_regional_domain_name = module.storage.assets_bucket_regional_domain_name
  api_primary_domain                 = local.endpoint.primary
  api_secondary_domain               = local.endpoint.secondary
  logs_bucket_domain_name            = module.storage.logs_bucket_domain_name
  tags                               = local.tags
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
      zone_id = module.dns.zone_id
      name    = module.dns.app_record.name
      type    = module.dns.app_record.type
      ttl     = module.dns.app_record.ttl
      value   = local.endpoint.primary
    }]
    cdn = var.cdn_enabled ? [{
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
  }
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
