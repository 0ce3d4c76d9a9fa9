variable "name" {
  description = "Prefix of alarm, topic and dashboard names, usually <app>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment, used by the budget's tag filter."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "region_code" {
  description = "Short region code (use1) in regional names."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2,4}[0-9]$", var.region_code))
    error_message = "region_code must look like use1 or apse2."
  }
}

variable "kms_key_arn" {
  description = "KMS key of the alerts topic."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "alert_emails" {
  description = "Addresses subscribed to the alerts topic."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails must be e-mail addresses."
  }
}

variable "alb_arn_suffix" {
  description = "ALB dimension."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "Target group dimension."
  type        = string
}

variable "ecs_cluster_name" {
  description = "ECS cluster dimension."
  type        = string
}

variable "ecs_service_name" {
  description = "ECS service dimension (and X-Ray service name)."
  type        = string
}

variable "db_identifier" {
  description = "RDS instance dimension."
  type        = string
}

variable "db_is_replica" {
  description = "The instance is a read replica: add the replica-lag alarm."
  type        = bool
  default     = false
}

variable "cache" {
  description = "Redis replication group to alarm on (its ID and node count); null when the region has no cache."
  type = object({
    replication_group_id = string
    node_count           = number
  })
  default = null

  validation {
    condition     = var.cache == null || try(var.cache.node_count >= 1 && var.cache.node_count <= 6, false)
    error_message = "cache.node_count must be between 1 and 6."
  }
}

variable "alb_5xx_threshold" {
  description = "5xx responses per minute that count as an incident."
  type        = number
  default     = 10

  validation {
    condition     = var.alb_5xx_threshold >= 1
    error_message = "alb_5xx_threshold must be at least 1."
  }
}

variable "latency_p99_seconds" {
  description = "p99 latency threshold (seconds)."
  type        = number
  default     = 1.5

  validation {
    condition     = var.latency_p99_seconds > 0
    error_message = "latency_p99_seconds must be positive."
  }
}

variable "rds_free_storage_bytes" {
  description = "Free storage below which the RDS alarm fires."
  type        = number
  default     = 5368709120

  validation {
    condition     = var.rds_free_storage_bytes > 0
    error_message = "rds_free_storage_bytes must be positive."
  }
}

variable "rds_max_connections" {
  description = "Connections above which the RDS alarm fires."
  type        = number
  default     = 200

  validation {
    condition     = var.rds_max_connections >= 1
    error_message = "rds_max_connections must be at least 1."
  }
}

variable "replica_lag_seconds" {
  description = "Replica lag above which the alarm fires; keep it below the RPO target."
  type        = number
  default     = 30

  validation {
    condition     = var.replica_lag_seconds >= 1
    error_message = "replica_lag_seconds must be at least 1."
  }
}

variable "redis_evictions_threshold" {
  description = "Evictions per minute above which the cache alarm fires."
  type        = number
  default     = 100

  validation {
    condition     = var.redis_evictions_threshold >= 0
    error_message = "redis_evictions_threshold must not be negative."
  }
}

variable "xray_sampling_rule_enabled" {
  description = "Create the X-Ray sampling rule (false only where the X-Ray API is not served, such as the emulator)."
  type        = bool
  default     = true
}

variable "xray_fixed_rate" {
  description = "Fraction of requests traced beyond the reservoir."
  type        = number
  default     = 0.05

  validation {
    condition     = var.xray_fixed_rate >= 0 && var.xray_fixed_rate <= 1
    error_message = "xray_fixed_rate must be between 0 and 1."
  }
}

variable "budget" {
  description = "Monthly cost budget of the environment (limit in USD and who is told at 100 %); null: none."
  type = object({
    limit_usd = number
    emails    = list(string)
  })
  default = null

  validation {
    condition     = var.budget == null || try(var.budget.limit_usd > 0 && length(var.budget.emails) > 0, false)
    error_message = "budget needs a positive limit_usd and at least one e-mail."
  }
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
