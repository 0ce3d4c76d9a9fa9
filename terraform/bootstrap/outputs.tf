output "backends" {
  description = "Backend settings of each region's stack, as written in terraform/environments/<env>/<stack>.s3.tfbackend."
  value = {
    primary = {
      bucket         = module.primary.bucket_name
      region         = var.primary_region
      dynamodb_table = module.primary.lock_table_name
      kms_key_id     = module.primary.kms_key_arn
    }
    secondary = {
      bucket         = module.secondary.bucket_name
      region         = var.secondary_region
      dynamodb_table = module.secondary.lock_table_name
      kms_key_id     = module.secondary.kms_key_arn
    }
  }
}

output "lock_table" {
  description = "Lock table name, the same in both regions (dr.yaml lock.dynamodb_table)."
  value       = local.lock_table
}
