data "aws_elb_service_account" "this" {}

locals {
  tags = merge(var.tags, { Module = "storage" })
  all_buckets = {
    assets  = var.assets_bucket_name
    backups = var.backups_bucket_name
    logs    = var.logs_bucket_name
  }
  bucket_ids = {
    assets  = aws_s3_bucket.assets.id
    backups = aws_s3_bucket.backups.id
    logs    = aws_s3_bucket.logs.id
  }
  bucket_arns = {
    assets  = aws_s3_bucket.assets.arn
    backups = aws_s3_bucket.backups.arn
    logs    = aws_s3_bucket.logs.arn
  }
  # Buckets copied to the peer region, each under the destination's own key.
  replications = { for k, r in { assets = var.assets_replication, backups = var.backup_replication } : k => r if r != null }
  # The backups role's name predates the assets copy.
  replication_role = { assets = "assets-replication", backups = "backup-replication" }
}

resource "aws_s3_bucket" "assets" {
  #checkov:skip=CKV_AWS_144:replicated where the stack has a peer region (assets_replication: the primary's, which CloudFront fails over to); the standby's own bucket is filled by the release pipeline
  #checkov:skip=CKV2_AWS_62:nothing consumes asset-bucket events
  bucket = var.assets_bucket_name
  tags   = merge(local.tags, { Name = var.assets_bucket_name, Purpose = "static-assets" })
}

resource "aws_s3_bucket" "backups" {
  #checkov:skip=CKV2_AWS_62:backups are written by scheduled jobs that report their own outcome
  #checkov:skip=CKV_AWS_144:replication is configured in aws_s3_bucket_replication_configuration.this where the stack has a peer region
  bucket = var.backups_bucket_name
  tags   = merge(local.tags, { Name = var.backups_bucket_name, Purpose = "backups" })
}

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:this is the access-log bucket; logging it into itself would loop
  #checkov:skip=CKV_AWS_144:access logs are regional evidence; a copy in the peer region is not needed to recover
  #checkov:skip=CKV_AWS_145:ALB access logs can only be delivered to SSE-S3 buckets (AWS ELB documentation)
  #checkov:skip=CKV2_AWS_62:nothing consumes log-bucket events
  bucket = var.logs_bucket_name
  tags   = merge(local.tags, { Name = var.logs_bucket_name, Purpose = "access-logs" })
}

resource "aws_s3_bucket_versioning" "assets" {
  bucket = aws_s3_bucket.assets.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_versioning" "backups" {
  bucket = aws_s3_bucket.backups.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "assets" {
  bucket = aws_s3_bucket.assets.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "assets" {
  bucket                  = aws_s3_bucket.assets.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_public_access_block" "backups" {
  bucket                  = aws_s3_bucket.backups.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "assets" {
  bucket = aws_s3_bucket.assets.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_ownership_controls" "backups" {
  bucket = aws_s3_bucket.backups.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# CloudFront standard logging writes through an ACL grant, so this one bucket
# keeps ACLs enabled; public ACLs stay blocked above.
resource "aws_s3_bucket_ownership_controls" "logs" {
  #checkov:skip=CKV2_AWS_65:CloudFront standard logs require ACLs on the target bucket
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_logging" "assets" {
  bucket        = aws_s3_bucket.assets.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/${var.assets_bucket_name}/"
  # S3 checks the target's policy admits the logging service when logging is set.
  depends_on = [aws_s3_bucket_policy.this]
}

resource "aws_s3_bucket_logging" "backups" {
  bucket        = aws_s3_bucket.backups.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/${var.backups_bucket_name}/"
  # S3 checks the target's policy admits the logging service when logging is set.
  depends_on = [aws_s3_bucket_policy.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "assets" {
  bucket = aws_s3_bucket.assets.id
  rule {
    id     = "expire-replaced-assets"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.assets, aws_s3_bucket_versioning.backups, aws_s3_bucket_versioning.logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id
  rule {
    id     = "archive-then-expire"
    status = "Enabled"
    filter {}
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
    transition {
      days          = 90
      storage_class = "GLACIER"
    }
    transition {
      days          = 180
      storage_class = "DEEP_ARCHIVE"
    }
    expiration {
      days = var.backup_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.assets, aws_s3_bucket_versioning.backups, aws_s3_bucket_versioning.logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.assets, aws_s3_bucket_versioning.backups, aws_s3_bucket_versioning.logs]
}

data "aws_iam_policy_document" "bucket" {
  for_each = local.all_buckets

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arns[each.key], "${local.bucket_arns[each.key]}/*"]
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

  dynamic "statement" {
    for_each = each.key == "assets" && length(var.assets_reader_distribution_arns) > 0 ? [1] : []
    content {
      sid       = "CloudFrontOriginAccessControl"
      actions   = ["s3:GetObject"]
      resources = ["${local.bucket_arns[each.key]}/*"]
      principals {
        type        = "Service"
        identifiers = ["cloudfront.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "AWS:SourceArn"
        values   = var.assets_reader_distribution_arns
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "logs" ? [1] : []
    content {
      sid       = "LoadBalancerAccessLogs"
      actions   = ["s3:PutObject"]
      resources = ["${local.bucket_arns[each.key]}/alb/*"]
      principals {
        type        = "AWS"
        identifiers = [data.aws_elb_service_account.this.arn]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "logs" ? [1] : []
    content {
      sid       = "LoadBalancerAccessLogsDelivery"
      actions   = ["s3:PutObject"]
      resources = ["${local.bucket_arns[each.key]}/alb/*"]
      principals {
        type        = "Service"
        identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
      }
    }
  }
  # One statement per source bucket, each limited to that bucket's prefix.
  dynamic "statement" {
    for_each = each.key == "logs" ? { assets = aws_s3_bucket.assets.arn, backups = aws_s3_bucket.backups.arn } : {}
    content {
      sid       = "ServerAccessLogs${title(statement.key)}"
      actions   = ["s3:PutObject"]
      resources = ["${local.bucket_arns[each.key]}/s3/${local.all_buckets[statement.key]}/*"]
      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }
      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [statement.value]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "logs" ? [1] : []
    content {
      sid       = "ConfigCheckBucket"
      actions   = ["s3:GetBucketAcl", "s3:ListBucket"]
      resources = [local.bucket_arns[each.key]]
      principals {
        type        = "Service"
        identifiers = ["config.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "logs" ? [1] : []
    content {
      sid       = "ConfigDelivery"
      actions   = ["s3:PutObject"]
      resources = ["${local.bucket_arns[each.key]}/config/AWSLogs/*"]
      principals {
        type        = "Service"
        identifiers = ["config.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "s3:x-amz-acl"
        values   = ["bucket-owner-full-control"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each   = local.all_buckets
  bucket     = local.bucket_ids[each.key]
  policy     = data.aws_iam_policy_document.bucket[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.assets, aws_s3_bucket_public_access_block.backups, aws_s3_bucket_public_access_block.logs]
}

data "aws_iam_policy_document" "replication_assume" {
  count = length(local.replications) > 0 ? 1 : 0
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "replication" {
  for_each = local.replications
  statement {
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [local.bucket_arns[each.key]]
  }
  statement {
    actions = [
      "s3:GetObjectVersionForReplication",
      "s3:GetObjectVersionAcl",
      "s3:GetObjectVersionTagging",
    ]
    resources = ["${local.bucket_arns[each.key]}/*"]
  }
  statement {
    actions = [
      "s3:ReplicateObject",
      "s3:ReplicateDelete",
      "s3:ReplicateTags",
    ]
    resources = ["${each.value.bucket_arn}/*"]
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
  statement {
    actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
    resources = [each.value.kms_key_arn]
  }
}

resource "aws_iam_role" "replication" {
  for_each           = local.replications
  name               = "${var.name_prefix}-${var.region_code}-${local.replication_role[each.key]}"
  assume_role_policy = data.aws_iam_policy_document.replication_assume[0].json
  tags               = local.tags
}

resource "aws_iam_role_policy" "replication" {
  for_each = local.replications
  name     = "replicate-${each.key}"
  role     = aws_iam_role.replication[each.key].id
  policy   = data.aws_iam_policy_document.replication[each.key].json
}

# Every object version, delete markers included, under the destination region's key: the
# copy is what a failover reads (assets through CloudFront's origin group, backups to
# restore from) while this region does not answer.
resource "aws_s3_bucket_replication_configuration" "this" {
  for_each = local.replications
  bucket   = local.bucket_ids[each.key]
  role     = aws_iam_role.replication[each.key].arn

  rule {
    id     = "${each.key}-to-peer-region"
    status = "Enabled"
    filter {}

    delete_marker_replication {
      status = "Enabled"
    }

    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket = each.value.bucket_arn
      # Backups are read rarely; assets are served from the copy after a failover.
      storage_class = each.key == "backups" ? "STANDARD_IA" : "STANDARD"
      encryption_configuration {
        replica_kms_key_id = each.value.kms_key_arn
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.assets, aws_s3_bucket_versioning.backups, aws_s3_bucket_versioning.logs]
}

moved {
  from = aws_iam_role.replication[0]
  to   = aws_iam_role.replication["backups"]
}

moved {
  from = aws_iam_role_policy.replication[0]
  to   = aws_iam_role_policy.replication["backups"]
}

moved {
  from = aws_s3_bucket_replication_configuration.backups[0]
  to   = aws_s3_bucket_replication_configuration.this["backups"]
}
