variable "name_prefix" {
  description = "Prefix of resource names, usually <app>-<environment>-<region>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name_prefix))
    error_message = "name_prefix must be 2-41 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "bucket_name" {
  description = "Name of the state bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "lock_table_name" {
  description = "Name of the DynamoDB table used for state locking (and by dr for run locks)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.lock_table_name))
    error_message = "lock_table_name must be 3-255 of [a-zA-Z0-9_.-]."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days an overwritten state version is kept."
  type        = number
  default     = 365

  validation {
    condition     = var.noncurrent_version_retention_days >= 30
    error_message = "noncurrent_version_retention_days must be at least 30."
  }
}

variable "deletion_protection" {
  description = "Protect the lock table from deletion."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
