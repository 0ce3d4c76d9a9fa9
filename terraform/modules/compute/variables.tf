variable "name_prefix" {
  description = "Prefix of resource names, usually <app>-<environment>; also the cluster, repository and task family name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region_code" {
  description = "Short region code (use1) that keeps IAM role names unique per region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2,4}[0-9]$", var.region_code))
    error_message = "region_code must look like use1 or apse2."
  }
}

variable "service_name" {
  description = "ECS service name; the same in both regions so dr can find it."
  type        = string
  default     = "api"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]{0,254}$", var.service_name))
    error_message = "service_name must start with a letter and hold letters, digits, _ or -."
  }
}

variable "vpc_id" {
  description = "VPC of the target group."
  type        = string
}

variable "public_subnet_ids" {
  description = "Subnets of the load balancer (at least 2)."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "An ALB needs subnets in at least 2 AZs."
  }
}

variable "private_subnet_ids" {
  description = "Subnets of the tasks (at least 2)."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "Tasks need subnets in at least 2 AZs."
  }
}

variable "alb_security_group_id" {
  description = "Security group of the load balancer."
  type        = string
}

variable "app_security_group_id" {
  description = "Security group of the tasks."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate of the HTTPS listener."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "access_logs_bucket" {
  description = "Bucket receiving ALB access logs under alb/."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for the repository, the log group and the secrets."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "secrets" {
  description = "Environment variable name => Secrets Manager secret (ARN, or name of a secret in this region) injected into the app container."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for s in values(var.secrets) : can(regex("^arn:aws[a-z-]*:secretsmanager:", s)) || can(regex("^[a-zA-Z0-9/_+=.@-]{1,512}$", s))])
    error_message = "Every secrets value must be a Secrets Manager secret ARN or name."
  }
}

variable "parameter_path" {
  description = "SSM parameter path the app reads its settings from (e.g. /timeline/prod)."
  type        = string

  validation {
    condition     = can(regex("^(/[a-zA-Z0-9_.-]+)+$", var.parameter_path))
    error_message = "parameter_path must look like /timeline/prod."
  }
}

variable "image_tag" {
  description = "Image tag of the app (tags are immutable)."
  type        = string
  default     = "bootstrap"
}

variable "xray_daemon_image" {
  description = "Image of the X-Ray daemon sidecar."
  type        = string
  default     = "public.ecr.aws/xray/aws-xray-daemon:3.3.14"
}

variable "app_port" {
  description = "Port the app listens on."
  type        = number
  default     = 8080

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535
    error_message = "app_port must be an unprivileged port (1024-65535)."
  }
}

variable "task_cpu" {
  description = "Fargate task CPU units."
  type        = number
  default     = 512

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.task_cpu)
    error_message = "task_cpu must be a Fargate CPU size."
  }
}

variable "task_memory" {
  description = "Fargate task memory (MiB)."
  type        = number
  default     = 1024

  validation {
    condition     = var.task_memory >= 512 && var.task_memory <= 122880
    error_message = "task_memory must be between 512 and 122880 MiB."
  }
}

variable "desired_count" {
  description = "Initial desired count (the active count in the primary, the standby count in the secondary); afterwards owned by autoscaling and dr."
  type        = number

  validation {
    condition     = var.desired_count >= 0 && var.desired_count <= 100 && floor(var.desired_count) == var.desired_count
    error_message = "desired_count must be an integer between 0 and 100."
  }
}

variable "min_count" {
  description = "Autoscaling minimum."
  type        = number

  validation {
    condition     = var.min_count >= 0 && floor(var.min_count) == var.min_count
    error_message = "min_count must be a non-negative integer."
  }
}

variable "max_count" {
  description = "Autoscaling maximum."
  type        = number

  validation {
    condition     = var.max_count >= 1 && var.max_count <= 100 && floor(var.max_count) == var.max_count
    error_message = "max_count must be an integer between 1 and 100."
  }
}

variable "cpu_target_percent" {
  description = "Target average CPU utilisation."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target_percent > 0 && var.cpu_target_percent <= 100
    error_message = "cpu_target_percent must be in (0, 100]."
  }
}

variable "memory_target_percent" {
  description = "Target average memory utilisation."
  type        = number
  default     = 70

  validation {
    condition     = var.memory_target_percent > 0 && var.memory_target_percent <= 100
    error_message = "memory_target_percent must be in (0, 100]."
  }
}

variable "deletion_protection" {
  description = "Protect the load balancer from deletion."
  type        = bool
  default     = true
}

variable "ecr_images_kept" {
  description = "Number of images the repository keeps."
  type        = number
  default     = 50

  validation {
    condition     = var.ecr_images_kept >= 5
    error_message = "Keep at least 5 images so that rollbacks stay possible."
  }
}

variable "log_retention_days" {
  description = "Retention of the app log group."
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
