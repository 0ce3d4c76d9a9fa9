variable "bucket_name" {
  description = "Name of the copy (globally unique; the stacks end it in the account ID)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "purpose" {
  description = "Purpose tag, e.g. backup-copy or assets-copy."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the copy's region (replication re-encrypts under it); a CloudFront reader needs its key policy to admit cloudfront.amazonaws.com."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "reader_distribution_arns" {
  description = "CloudFront distributions allowed to read objects through origin access control."
  type        = list(string)
  default     = []
}

variable "noncurrent_version_days" {
  description = "Days a replaced or deleted version is kept (as the source keeps its own)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "noncurrent_version_days must be at least 1."
  }
}

variable "tags" {
  description = "Tags merged onto the bucket."
  type        = map(string)
  default     = {}
}
