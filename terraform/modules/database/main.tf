locals {
  tags       = merge(var.tags, { Module = "database" })
  is_replica = var.source_db_arn != null && !var.promoted
}

# rds.force_ssl makes the server refuse unencrypted connections, so TLS does not
# depend on every client remembering sslmode=require.
resource "aws_db_parameter_group" "this" {
  name        = var.identifier
  family      = var.parameter_group_family
  description = "TLS-only PostgreSQL for ${var.identifier}"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  tags = local.tags
}

resource "aws_db_subnet_group" "this" {
  count      = var.subnet_group_enabled ? 1 : 0
  name       = var.identifier
  subnet_ids = var.subnet_ids
  tags       = local.tags
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.identifier}-${var.region_code}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  identifier     = var.identifier
  engine         = "postgres"
  engine_version = local.is_replica ? null : var.engine_version
  instance_class = var.instance_class

  replicate_source_db = local.is_replica ? var.source_db_arn : null

  username                      = var.source_db_arn == null ? var.master_username : null
  manage_master_user_password   = var.source_db_arn == null ? true : null
  master_user_secret_kms_key_id = var.source_db_arn == null ? var.kms_key_arn : null
  db_name                       = var.source_db_arn == null ? var.database_name : null

  allocated_storage     = local.is_replica ? null : var.allocated_storage
  max_allocated_storage = var.max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  multi_az               = var.multi_az
  db_subnet_group_name   = var.subnet_group_enabled ? aws_db_subnet_group.this[0].name : null
  vpc_security_group_ids = [var.security_group_id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name

  backup_retention_period  = var.backup_retention_days
  backup_window            = "03:00-04:00"
  maintenance_window       = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot    = true
  delete_automated_backups = false

  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.identifier}-final"

  auto_minor_version_upgrade          = true
  iam_database_authentication_enabled = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = 7
  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.monitoring.arn

  apply_immediately = false
  tags              = merge(local.tags, { Name = var.identifier, DrRole = local.is_replica ? "replica" : "writer" })
}
