variable "name" {
  description = "Prefix of the recorder, channel and rule names, usually <app>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region_code" {
  description = "Short region code (use1) that keeps the role name unique per region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2,4}[0-9]$", var.region_code))
    error_message = "region_code must look like use1 or apse2."
  }
}

variable "bucket_name" {
  description = "Bucket receiving configuration snapshots under config/ (its policy must admit config.amazonaws.com)."
  type        = string
}

variable "include_global_resources" {
  description = "Record global resources (IAM); true in one region only, so they are not recorded twice."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
