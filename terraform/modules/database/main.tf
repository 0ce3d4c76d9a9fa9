locals {
  tags = merge(var.tags, { Module = "database" })

  # The instance Terraform created is tracked by its resource ID, which a rename does not
  # change. dr's re-protection renames it (`<identifier>-retired-<time>`, fenced, kept for
  # forensics) and creates a new replica under `identifier`: from then on Terraform follows
  # the instance by name (`adopted`, imported by the root stack) and leaves the retired one
  # as it is.
  original_retired = aws_db_instance.original.identifier != var.identifier
  live             = local.original_retired ? aws_db_instance.adopted[0] : aws_db_instance.original

  # The instance in service against what dr_state says dr left it as. Read from the
  # attributes Terraform ignores, whose planned values are what the refresh found.
  live_is_replica = try(length(local.live.replicate_source_db) > 0, false)
  live_unfenced   = toset(local.live.vpc_security_group_ids) == toset([var.security_group_id])
  role_matches = {
    writer  = !local.live_is_replica && local.live_unfenced
    replica = local.live_is_replica
    fenced  = !local.live_is_replica && !local.live_unfenced
  }
  role_holds = {
    writer  = "a standalone instance with the security group Terraform gave it (not fenced)"
    replica = "a read replica of ${coalesce(var.source_db_arn, "its source")}"
    fenced  = "a standalone instance that dr fenced (its security groups swapped for dr-fence)"
  }
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

resource "aws_db_instance" "original" {
  identifier     = var.identifier
  engine         = "postgres"
  engine_version = var.created_as_replica ? null : var.engine_version
  instance_class = var.instance_class

  replicate_source_db = var.created_as_replica ? var.source_db_arn : null

  username                      = var.created_as_replica ? null : var.master_username
  manage_master_user_password   = var.created_as_replica ? null : true
  master_user_secret_kms_key_id = var.created_as_replica ? null : var.kms_key_arn
  db_name                       = var.created_as_replica ? null : var.database_name
  allocated_storage             = var.created_as_replica ? null : var.allocated_storage

  max_allocated_storage = var.max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  multi_az               = var.multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
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
  tags              = merge(local.tags, { Name = var.identifier })

  lifecycle {
    # dr owns these after creation: it promotes replicas, fences an old writer (swaps its
    # security groups for dr-fence) and renames it when it retires it. An apply must never
    # promote, un-fence or rename back, whatever dr_state it is given.
    ignore_changes = [identifier, replicate_source_db, vpc_security_group_ids]
  }
}

# An instance dr created under `identifier` (the replica of a re-protection, or the writer
# it became), adopted by name: its state ID is the identifier, so a later retirement leaves
# the renamed instance behind and Terraform reads the new one. The same settings as above,
# in the shape of an instance created as a replica.
resource "aws_db_instance" "adopted" {
  count = local.original_retired ? 1 : 0

  identifier          = var.identifier
  engine              = "postgres"
  instance_class      = var.instance_class
  replicate_source_db = var.role == "replica" ? var.source_db_arn : null

  max_allocated_storage = var.max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  multi_az               = var.multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
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
  tags              = merge(local.tags, { Name = var.identifier })

  lifecycle {
    ignore_changes = [replicate_source_db, vpc_security_group_ids]
    # Only a vanished retired instance would make `original` look unretired, and with it
    # this one look unwanted: refuse rather than delete the database in service (see the
    # README: "Deleting a retired instance").
    prevent_destroy = true
  }
}
