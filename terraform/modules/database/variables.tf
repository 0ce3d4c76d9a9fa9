variable "identifier" {
  description = "RDS instance identifier (also names the parameter and subnet groups)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,61}[a-z0-9]$", var.identifier)) && !strcontains(var.identifier, "--")
    error_message = "identifier must be 2-63 lowercase letters, digits or single hyphens, starting with a letter."
  }
}

variable "region_code" {
  description = "Short region code (use1) that keeps the monitoring role name unique per region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2,4}[0-9]$", var.region_code))
    error_message = "region_code must look like use1 or apse2."
  }
}

variable "source_db_arn" {
  description = "ARN of the instance in the other region: the source whenever this one is a replica (required with created_as_replica or role replica)."
  type        = string
  default     = null

  validation {
    condition     = var.source_db_arn == null || can(regex("^arn:aws[a-z-]*:rds:[a-z0-9-]+:[0-9]{12}:db:", var.source_db_arn))
    error_message = "source_db_arn must be an RDS DB instance ARN."
  }
}

variable "created_as_replica" {
  description = "Terraform creates the instance as a cross-region read replica of source_db_arn (the standby's); false: as a writer."
  type        = bool
  default     = false
}

variable "role" {
  description = "What dr has left the instance under `identifier` as (from the stack's dr_state): writer, replica (of source_db_arn) or fenced (a former writer, its security groups swapped for dr's fence). Checked against the instance at plan time."
  type        = string
  default     = "writer"

  validation {
    condition     = contains(["writer", "replica", "fenced"], var.role)
    error_message = "role must be writer, replica or fenced."
  }
}

variable "engine_version" {
  description = "PostgreSQL major version of an instance Terraform creates as a writer. Major only: AWS applies minor upgrades (auto_minor_version_upgrade) and the provider reads 16.8 as matching 16, so no plan asks for a downgrade afterwards. A replica follows its source."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^[0-9]{2}$", var.engine_version))
    error_message = "engine_version must be a major version such as 16."
  }
}

variable "parameter_group_family" {
  description = "Parameter group family matching engine_version."
  type        = string
  default     = "postgres16"

  validation {
    condition     = can(regex("^postgres[0-9]{2}$", var.parameter_group_family))
    error_message = "parameter_group_family must look like postgres16."
  }
}

variable "instance_class" {
  description = "Instance class."
  type        = string

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must look like db.t4g.micro."
  }
}

variable "allocated_storage" {
  description = "Initial storage (GiB) of a writer."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 65536
    error_message = "allocated_storage must be between 20 and 65536 GiB."
  }
}

variable "max_allocated_storage" {
  description = "Storage autoscaling ceiling (GiB)."
  type        = number
  default     = 100

  validation {
    condition     = var.max_allocated_storage >= 20 && var.max_allocated_storage <= 65536
    error_message = "max_allocated_storage must be between 20 and 65536 GiB."
  }
}

variable "master_username" {
  description = "Master user name of a writer; its password is generated and kept in Secrets Manager by RDS."
  type        = string
  default     = "timeline_admin"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.master_username))
    error_message = "master_username must start with a letter and hold letters, digits or _."
  }
}

variable "database_name" {
  description = "Initial database of a writer."
  type        = string
  default     = "timeline"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must start with a letter and hold letters, digits or _."
  }
}

variable "multi_az" {
  description = "Synchronous standby in a second AZ."
  type        = bool
}

variable "backup_retention_days" {
  description = "Automated backup retention."
  type        = number
  default     = 30

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35."
  }
}

variable "deletion_protection" {
  description = "Protect the instance from deletion."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key of this region for storage, Performance Insights and the master secret."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the subnet group (at least 2)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "A DB subnet group needs subnets in at least 2 AZs."
  }
}

variable "security_group_id" {
  description = "Security group of the instance."
  type        = string
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
