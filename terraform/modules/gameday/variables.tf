variable "name" {
  description = "Prefix of every name here, usually <app>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "app" {
  description = "dr.yaml's app: the App dimension of the DR metrics the alarm watches."
  type        = string

  validation {
    condition     = length(var.app) > 0 && length(var.app) <= 255
    error_message = "app must be 1-255 characters."
  }
}

variable "environment" {
  description = "dr.yaml's environment: the Environment dimension of the DR metrics."
  type        = string

  validation {
    condition     = length(var.environment) > 0 && length(var.environment) <= 255
    error_message = "environment must be 1-255 characters."
  }
}

variable "image" {
  description = "The dr container image, pinned by tag or digest (built from the repository's Dockerfile)."
  type        = string

  validation {
    condition     = can(regex("^[^\\s:@]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$", var.image)) && !endswith(var.image, ":latest")
    error_message = "image must be pinned: repository:tag (not latest) or repository@sha256:digest."
  }
}

variable "dr_config_yaml" {
  description = "The dr.yaml the task runs with (written to /work/dr.yaml before dr starts). A scheduled game day needs its gameday section; `dr failover --remote` needs journal: and runner:."
  type        = string

  validation {
    condition     = can(yamldecode(var.dr_config_yaml))
    error_message = "dr_config_yaml must be YAML."
  }
}

variable "scheduled" {
  description = "true: the scheduled game day (schedule, its role, the DrillSucceeded alarm) beside the task definition; false: only the task definition, its roles and logs, which `dr failover --remote` runs (the primary region's runner)."
  type        = bool
  default     = true
}

variable "task_policy_json" {
  description = "The task role's policy: `dr iam-policy --config dr.yaml --runbook gameday` narrows it to one environment; null uses the module's iam-policy.json (`dr iam-policy --runbook gameday`, kept fresh by CI)."
  type        = string
  default     = null

  validation {
    condition     = var.task_policy_json == null || can(jsondecode(var.task_policy_json).Statement)
    error_message = "task_policy_json must be an IAM policy document (JSON with Statement)."
  }
}

variable "schedule_expression" {
  description = "When the game day runs: an EventBridge Scheduler cron() expression. Run at least every expected_every_days."
  type        = string
  default     = "cron(0 10 ? * TUE *)"
  nullable    = false

  validation {
    condition     = can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", var.schedule_expression))
    error_message = "schedule_expression must be cron(minutes hours day-of-month month day-of-week year)."
  }
}

variable "schedule_timezone" {
  description = "IANA time zone of schedule_expression."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$", var.schedule_timezone))
    error_message = "schedule_timezone must be an IANA time zone such as UTC or Europe/Berlin."
  }
}

variable "schedule_enabled" {
  description = "false pauses the schedule (for example during a change freeze)."
  type        = bool
  default     = true
}

variable "expected_every_days" {
  description = "The alarm fires when no successful game day was reported in this many days (CloudWatch alarms look back at most 7)."
  type        = number
  default     = 7

  validation {
    condition     = var.expected_every_days >= 1 && var.expected_every_days <= 7 && floor(var.expected_every_days) == var.expected_every_days
    error_message = "expected_every_days must be a whole number from 1 to 7."
  }
}

variable "to" {
  description = "The role dr fails over to (dr gameday --to): this module's region must be that role's region."
  type        = string
  default     = "secondary"

  validation {
    condition     = contains(["primary", "secondary"], var.to)
    error_message = "to must be primary or secondary."
  }
}

variable "allow_prod" {
  description = "Pass --allow-prod: needed when dr.yaml's environment is prod or production."
  type        = bool
  default     = false
}

variable "cluster_arn" {
  description = "ECS cluster the task runs in (in this region)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/.+$", var.cluster_arn))
    error_message = "cluster_arn must be an ECS cluster ARN."
  }
}

variable "subnet_ids" {
  description = "Private subnets for the task; they need a route to the AWS APIs of both regions and to the health URLs."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "subnet_ids must be one or more subnet IDs."
  }
}

variable "security_group_ids" {
  description = "Security groups for the task (egress to HTTPS is all it needs)."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) > 0 && alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", s))])
    error_message = "security_group_ids must be one or more security group IDs."
  }
}

variable "cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 512

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.cpu)
    error_message = "cpu must be 256, 512, 1024, 2048 or 4096."
  }
}

variable "memory" {
  description = "Fargate task memory (MiB); must suit cpu."
  type        = number
  default     = 1024

  validation {
    condition     = var.memory >= 512 && var.memory <= 30720
    error_message = "memory must be 512-30720 MiB."
  }
}

variable "kms_key_arn" {
  description = "KMS key for the log group and the schedule; its key policy must let CloudWatch Logs in this region use it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of the task's log group."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ... 365, ... 3653)."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic told when a game day fails or does not report (required when scheduled)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

variable "tags" {
  description = "Merged onto every resource."
  type        = map(string)
  default     = {}
}
