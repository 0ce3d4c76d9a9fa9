variable "name_prefix" {
  description = "Prefix of resource names, usually <app>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region_code" {
  description = "Short region code (use1) that keeps IAM role names unique per region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2,4}[0-9]$", var.region_code))
    error_message = "region_code must look like use1 or apse2."
  }
}

variable "assets_bucket_name" {
  description = "Bucket of static assets, served only through CloudFront."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.assets_bucket_name))
    error_message = "assets_bucket_name must be a valid S3 bucket name."
  }
}

variable "backups_bucket_name" {
  description = "Private bucket of backups."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.backups_bucket_name))
    error_message = "backups_bucket_name must be a valid S3 bucket name."
  }
}

variable "logs_bucket_name" {
  description = "Bucket receiving S3, ALB and CloudFront access logs."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.logs_bucket_name))
    error_message = "logs_bucket_name must be a valid S3 bucket name."
  }
}

variable "kms_key_arn" {
  description = "KMS key for the assets and backups buckets."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "assets_reader_distribution_arns" {
  description = "CloudFront distributions allowed to read the assets bucket through origin access control."
  type        = list(string)
  default     = []
}

variable "backup_replication" {
  description = "Destination of cross-region backup replication: bucket ARN and the destination region's KMS key (or alias) ARN. Null: no replication."
  type = object({
    bucket_arn  = string
    kms_key_arn = string
  })
  default = null

  validation {
    condition     = var.backup_replication == null || (startswith(try(var.backup_replication.bucket_arn, ""), "arn:aws") && can(regex(":kms:", try(var.backup_replication.kms_key_arn, ""))))
    error_message = "backup_replication needs an S3 bucket ARN and a KMS key or alias ARN."
  }
}

variable "assets_replication" {
  description = "Destination of cross-region assets replication (the copy CloudFront fails over to): bucket ARN and the destination region's KMS key ARN. Null: no replication."
  type = object({
    bucket_arn  = string
    kms_key_arn = string
  })
  default = null

  validation {
    condition     = var.assets_replication == null || (startswith(try(var.assets_replication.bucket_arn, ""), "arn:aws") && can(regex(":kms:", try(var.assets_replication.kms_key_arn, ""))))
    error_message = "assets_replication needs an S3 bucket ARN and a KMS key or alias ARN."
  }
}

variable "backup_retention_days" {
  description = "Days after which backups expire (after the archival transitions at 30, 90 and 180 days)."
  type        = number
  default     = 400

  validation {
    condition     = var.backup_retention_days > 180
    error_message = "backup_retention_days must be beyond the last archival transition (180 days)."
  }
}

variable "log_retention_days" {
  description = "Days access logs are kept."
  type        = number
  default     = 90

  validation {
    condition     = var.log_retention_days >= 1
    error_message = "log_retention_days must be positive."
  }
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
