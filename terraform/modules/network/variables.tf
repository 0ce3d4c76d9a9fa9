variable "name_prefix" {
  description = "Prefix of resource names, usually <app>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region_code" {
  description = "Short region code (use1, usw2) that keeps global names such as IAM roles unique per region."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2,4}[0-9]$", var.region_code))
    error_message = "region_code must look like use1 or apse2."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the VPC; a /16 to /20. Subnets are /4 slices of it."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be a valid IPv4 CIDR between /16 and /20."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread subnets over (at least 2, at most 4)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4 && alltrue([for az in var.availability_zones : can(regex("^[a-z]{2}-[a-z]+-[0-9][a-z]$", az))])
    error_message = "availability_zones must hold 2 to 4 zone names such as us-east-1a."
  }
}

variable "nat_gateway_per_az" {
  description = "One NAT gateway per AZ (true) or a single shared one (false, cheaper, loses egress with its AZ)."
  type        = bool
  default     = true
}

variable "app_port" {
  description = "Port the app containers listen on."
  type        = number
  default     = 8080

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535
    error_message = "app_port must be an unprivileged port (1024-65535)."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the flow-log group."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of the flow logs."
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
