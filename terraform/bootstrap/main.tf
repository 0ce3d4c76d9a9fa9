data "aws_caller_identity" "current" {
  provider = aws.primary
}

locals {
  name = "${var.app}-${var.environment}"
  region_code = {
    for r in [var.primary_region, var.secondary_region] :
    r => join("", [split("-", r)[0], substr(split("-", r)[1], 0, 1), split("-", r)[2]])
  }
  tags = merge(var.tags, {
    App         = var.app
    Environment = var.environment
    Stack       = "bootstrap"
  })
  # The lock table has the same name in both regions: dr.yaml's lock.dynamodb_table
  # is one name that dr looks up in whichever region it locks.
  lock_table = "${local.name}-locks"
}

module "primary" {
  source    = "../modules/state-backend"
  providers = { aws = aws.primary }

  name_prefix         = "${local.name}-${local.region_code[var.primary_region]}"
  bucket_name         = "${local.name}-tfstate-${local.region_code[var.primary_region]}-${data.aws_caller_identity.current.account_id}"
  lock_table_name     = local.lock_table
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

module "secondary" {
  source    = "../modules/state-backend"
  providers = { aws = aws.secondary }

  name_prefix         = "${local.name}-${local.region_code[var.secondary_region]}"
  bucket_name         = "${local.name}-tfstate-${local.region_code[var.secondary_region]}-${data.aws_caller_identity.current.account_id}"
  lock_table_name     = local.lock_table
  deletion_protection = var.deletion_protection
  tags                = local.tags
}
