variable "table_name" {
  description = "Name of the table, the same in both regions (dr.yaml journal.dynamodb_table)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{2,254}$", var.table_name))
    error_message = "table_name must be 3-255 letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "kms_key_arn" {
  description = "This region's KMS key for the table."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the table (on outside dev)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags merged onto the table."
  type        = map(string)
  default     = {}
}
