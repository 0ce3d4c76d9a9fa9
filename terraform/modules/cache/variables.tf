variable "name" {
  description = "Replication group ID (also names the subnet group, log group and secret)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "name must be 2-40 lowercase letters, digits or single hyphens, starting with a letter."
  }
}

variable "node_type" {
  description = "Cache node type."
  type        = string

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.node_type))
    error_message = "node_type must look like cache.t4g.micro."
  }
}

variable "num_cache_clusters" {
  description = "Nodes in the group (primary plus replicas); at least 2 for automatic failover across AZs."
  type        = number
  default     = 2

  validation {
    condition     = var.num_cache_clusters >= 2 && var.num_cache_clusters <= 6 && floor(var.num_cache_clusters) == var.num_cache_clusters
    error_message = "num_cache_clusters must be an integer between 2 and 6."
  }
}

variable "engine_version" {
  description = "Redis engine version (ignored for a Global Datastore member)."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9x]+$", var.engine_version))
    error_message = "engine_version must look like 7.1."
  }
}

variable "subnet_ids" {
  description = "Private subnets (at least 2)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "A Multi-AZ cache needs subnets in at least 2 AZs."
  }
}

variable "security_group_id" {
  description = "Security group of the cache."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for data at rest, the slow log and the AUTH secret."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "global_datastore_enabled" {
  description = "Make this (primary) group the primary of a Global Datastore."
  type        = bool
  default     = false
}

variable "global_replication_group_id" {
  description = "Join this Global Datastore as a secondary member; null for a standalone or primary group."
  type        = string
  default     = null

  validation {
    condition     = var.global_replication_group_id == null || can(regex("^[a-z]{5}-[a-z0-9-]+$", var.global_replication_group_id))
    error_message = "global_replication_group_id must look like ldgnf-timeline-prod."
  }
}

variable "auth_secret_replica_region" {
  description = "Replicate the AUTH secret to this region (the Global Datastore's secondary region, whose tasks read it there); null: no replica."
  type        = string
  default     = null
}

variable "snapshot_retention_days" {
  description = "Days of daily snapshots kept."
  type        = number
  default     = 7

  validation {
    condition     = var.snapshot_retention_days >= 1 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be between 1 and 35."
  }
}

variable "log_retention_days" {
  description = "Retention of the slow log."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts."
  }
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
