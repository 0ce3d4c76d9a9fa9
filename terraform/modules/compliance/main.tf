locals {
  tags = merge(var.tags, { Module = "compliance" })
  rules = {
    s3-bucket-public-read-prohibited = "S3_BUCKET_PUBLIC_READ_PROHIBITED"
    s3-bucket-ssl-requests-only      = "S3_BUCKET_SSL_REQUESTS_ONLY"
    rds-storage-encrypted            = "RDS_STORAGE_ENCRYPTED"
    rds-instance-public-access-check = "RDS_INSTANCE_PUBLIC_ACCESS_CHECK"
    vpc-flow-logs-enabled            = "VPC_FLOW_LOGS_ENABLED"
    restricted-ssh                   = "INCOMING_SSH_DISABLED"
    cmk-backing-key-rotation-enabled = "CMK_BACKING_KEY_ROTATION_ENABLED"
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "config" {
  name               = "${var.name}-${var.region_code}-config"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "config" {
  role       = aws_iam_role.config.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
}

resource "aws_config_configuration_recorder" "this" {
  #checkov:skip=CKV2_AWS_48:all supported types are recorded; global types (IAM) only in the primary region so they are not recorded twice
  name     = var.name
  role_arn = aws_iam_role.config.arn

  recording_group {
    all_supported                 = true
    include_global_resource_types = var.include_global_resources
  }
}

resource "aws_config_delivery_channel" "this" {
  name           = var.name
  s3_bucket_name = var.bucket_name
  s3_key_prefix  = "config"

  snapshot_delivery_properties {
    delivery_frequency = "TwentyFour_Hours"
  }

  depends_on = [aws_config_configuration_recorder.this]
}

resource "aws_config_configuration_recorder_status" "this" {
  name       = aws_config_configuration_recorder.this.name
  is_enabled = true
  depends_on = [aws_config_delivery_channel.this]
}

resource "aws_config_config_rule" "managed" {
  for_each = local.rules
  name     = "${var.name}-${each.key}"

  source {
    owner             = "AWS"
    source_identifier = each.value
  }

  depends_on = [aws_config_configuration_recorder.this]
  tags       = local.tags
}
