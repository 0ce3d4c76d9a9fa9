variable "alias_name" {
  description = "Alias of the key, without the alias/ prefix."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,250}$", var.alias_name)) && !startswith(var.alias_name, "aws/")
    error_message = "alias_name must be 1-250 of [a-zA-Z0-9/_-] and must not start with aws/."
  }
}

variable "description" {
  description = "What the key protects."
  type        = string
}

variable "service_principals" {
  description = "AWS service principals (for example logs.us-east-1.amazonaws.com) allowed to use the key on behalf of this account."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.service_principals : can(regex("^[a-z0-9.-]+\\.amazonaws\\.com$", p))])
    error_message = "service_principals must be AWS service principal names ending in .amazonaws.com."
  }
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled deletion takes effect."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
