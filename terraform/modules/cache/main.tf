locals {
  tags = merge(var.tags, { Module = "cache" })
  # A secondary member of a Global Datastore inherits engine, version, node type and auth
  # from the primary group; AWS (and the provider) reject them when given again.
  member = var.global_replication_group_id != null
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = local.tags
}

resource "aws_cloudwatch_log_group" "slow" {
  name              = "/elasticache/${var.name}/slow-log"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

resource "aws_secretsmanager_secret" "auth" {
  #checkov:skip=CKV2_AWS_57:rotating a Redis AUTH token needs a rotation function that also calls ModifyReplicationGroup; rotated by the runbook until that exists
  count                   = local.member ? 0 : 1
  name                    = "${var.name}/redis-auth"
  description             = "AUTH token of the ${var.name} Redis replication group"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7

  # A Global Datastore's secondary uses this token too: its tasks read the replica in their
  # own region, which stays readable when this region is lost (AWS-managed key there).
  dynamic "replica" {
    for_each = var.auth_secret_replica_region == null ? [] : [var.auth_secret_replica_region]
    content {
      region = replica.value
    }
  }

  tags = local.tags
}

data "aws_secretsmanager_random_password" "auth" {
  count               = local.member ? 0 : 1
  password_length     = 64
  exclude_punctuation = true
}

# The generator yields a new value on every plan; only the first one is stored,
# and later rotation happens in Secrets Manager, so Terraform must not undo it.
resource "aws_secretsmanager_secret_version" "auth" {
  count         = local.member ? 0 : 1
  secret_id     = aws_secretsmanager_secret.auth[0].id
  secret_string = data.aws_secretsmanager_random_password.auth[0].random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

resource "aws_elasticache_replication_group" "this" {
  #checkov:skip=CKV_AWS_29:a Global Datastore member inherits at-rest encryption from the datastore, whose primary (this module too) sets it; the provider refuses it on a member
  #checkov:skip=CKV_AWS_30:a Global Datastore member inherits in-transit encryption from the datastore, whose primary (this module too) sets it; the provider refuses it on a member
  replication_group_id        = var.name
  description                 = "Redis cache of ${var.name}"
  global_replication_group_id = var.global_replication_group_id

  engine         = local.member ? null : "redis"
  engine_version = local.member ? null : var.engine_version
  node_type      = local.member ? null : var.node_type
  port           = 6379

  num_cache_clusters         = var.num_cache_clusters
  automatic_failover_enabled = true
  multi_az_enabled           = true

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [var.security_group_id]

  # A member inherits both encryptions from the datastore (the provider refuses them).
  at_rest_encryption_enabled = local.member ? null : true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = local.member ? null : true
  auth_token                 = local.member ? null : aws_secretsmanager_secret_version.auth[0].secret_string

  snapshot_retention_limit   = var.snapshot_retention_days
  snapshot_window            = "02:00-03:00"
  maintenance_window         = "sun:05:30-sun:06:30"
  auto_minor_version_upgrade = true
  apply_immediately          = false

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.slow.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  tags = local.tags

  lifecycle {
    # dr owns a datastore's membership once it has moved it (README, "Caches"): a member it
    # detached reads no datastore, and after `dr reprotect` each member is in a datastore
    # with a new ID. Declaring the first value again would replace the group, data and all.
    ignore_changes = [global_replication_group_id]
  }
}

resource "aws_elasticache_global_replication_group" "this" {
  count                              = var.global_datastore_enabled && !local.member ? 1 : 0
  global_replication_group_id_suffix = var.name
  primary_replication_group_id       = aws_elasticache_replication_group.this.replication_group_id

  lifecycle {
    # After `dr failover` the datastore's primary is the other region's member: a change
    # here would replace the datastore. dr, not Terraform, moves the primary role.
    ignore_changes = [primary_replication_group_id]
  }
}
