variable "app" {
  description = "Application name; first part of every resource name."
  type        = string
  default     = "timeline"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,15}$", var.app))
    error_message = "app must be 2-16 lowercase letters or digits, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "dr_state" {
  description = "Where dr left the estate, read by both stacks from environments/<env>/dr-state.tfvars: which side is active (primary or secondary) and whether the other side holds replicas of it again (protected). dr's report names the value after every failover, reprotect and failback."
  type = object({
    active    = string
    protected = bool
  })

  validation {
    condition     = contains(["primary", "secondary"], var.dr_state.active)
    error_message = "dr_state.active must be primary or secondary."
  }
}

variable "primary_region" {
  description = "Region serving traffic in steady state."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.primary_region))
    error_message = "primary_region must be an AWS region name such as us-east-1."
  }
}

variable "secondary_region" {
  description = "Warm-standby region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.secondary_region))
    error_message = "secondary_region must be an AWS region name such as us-west-2."
  }
}

variable "zone_name" {
  description = "Public hosted zone of the environment, e.g. dev.timeline.example.com."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.zone_name))
    error_message = "zone_name must be a lowercase DNS name without a trailing dot."
  }
}

variable "deletion_protection" {
  description = "Deletion protection on the database and load balancer."
  type        = bool
}

variable "task_cpu" {
  description = "Fargate CPU units per task."
  type        = number
  default     = 512

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.task_cpu)
    error_message = "task_cpu must be a Fargate CPU size."
  }
}

variable "task_memory" {
  description = "Fargate memory per task (MiB)."
  type        = number
  default     = 1024

  validation {
    condition     = var.task_memory >= 512
    error_message = "task_memory must be at least 512 MiB."
  }
}

variable "active_count" {
  description = "Tasks in the region taking traffic (dr services[].active_count)."
  type        = number

  validation {
    condition     = var.active_count >= 1 && floor(var.active_count) == var.active_count
    error_message = "active_count must be a positive integer."
  }
}

variable "standby_count" {
  description = "Tasks in the warm standby (dr services[].standby_count)."
  type        = number

  validation {
    condition     = var.standby_count >= 0 && floor(var.standby_count) == var.standby_count
    error_message = "standby_count must be a non-negative integer."
  }
}

variable "max_count" {
  description = "Autoscaling maximum of the service."
  type        = number

  validation {
    condition     = var.max_count >= 1 && var.max_count <= 100
    error_message = "max_count must be between 1 and 100."
  }
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.cache_node_type))
    error_message = "cache_node_type must look like cache.t4g.micro."
  }
}

variable "alert_emails" {
  description = "Addresses subscribed to the alerts topic."
  type        = list(string)
  default     = []
}

variable "config_recorder_enabled" {
  description = "Run the AWS Config recorder in the secondary region (one per account and region: only one environment of a shared account may)."
  type        = bool
  default     = true
}

variable "cache_enabled" {
  description = "Create the Redis replication group (false only on the emulator, which cannot read a group's member clusters)."
  type        = bool
  default     = true
}

variable "xray_sampling_rule_enabled" {
  description = "Create the X-Ray sampling rule (false only on the emulator, which does not serve X-Ray)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags merged onto every resource (App, Environment and Stack are added)."
  type        = map(string)
  default     = {}
}

variable "availability_zones" {
  description = "Availability zones of the secondary region (2 to 4)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4
    error_message = "availability_zones must hold 2 to 4 zones."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the secondary VPC (must not overlap the primary's)."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR."
  }
}

variable "nat_gateway_per_az" {
  description = "One NAT gateway per AZ (prod) or one shared (dev)."
  type        = bool
}

variable "db_instance_class" {
  description = "RDS instance class of the replica; the same as the writer so a promoted replica carries the full load."
  type        = string

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must look like db.t4g.micro."
  }
}

variable "db_multi_az" {
  description = "Multi-AZ replica (prod: the promoted writer is then highly available at once)."
  type        = bool
}

variable "cache_global_replication_group_id" {
  description = "Global Datastore ID printed by the primary stack (cache_global_replication_group_id); null: a standalone standby cache."
  type        = string
  default     = null
}

variable "gameday_image" {
  description = "The dr image (pinned) for the scheduled game day in this region; null: no scheduled game day."
  type        = string
  default     = null
}

variable "gameday_dr_config_yaml" {
  description = "The dr.yaml the game-day task runs with (`dr config render` builds it; needs a gameday section). Required with gameday_image."
  type        = string
  default     = null # checked by the gameday module (YAML with gameday.report_bucket)
}

variable "gameday_schedule_expression" {
  description = "When the game day runs (EventBridge Scheduler cron); at least weekly for its alarm. null: the gameday module's default."
  type        = string
  default     = null
}
