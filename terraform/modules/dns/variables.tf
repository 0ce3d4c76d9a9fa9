variable "name" {
  description = "Name used in tags, usually <app>-<environment>."
  type        = string
}

variable "zone_name" {
  description = "Public hosted zone of the app, e.g. dev.timeline.example.com."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.zone_name))
    error_message = "zone_name must be a lowercase DNS name without a trailing dot."
  }
}

variable "regional_endpoints" {
  description = "Stable host names of each region's ALB, keyed primary and secondary."
  type        = map(string)

  validation {
    condition     = length(setsubtract(["primary", "secondary"], keys(var.regional_endpoints))) == 0 && length(var.regional_endpoints) == 2
    error_message = "regional_endpoints must have exactly the keys primary and secondary."
  }
}

variable "active" {
  description = "The side taking traffic (primary or secondary): where app.<zone> points when it is created."
  type        = string
  default     = "primary"

  validation {
    condition     = contains(["primary", "secondary"], var.active)
    error_message = "active must be primary or secondary."
  }
}

variable "health_path" {
  description = "Path the Route 53 health checks request."
  type        = string
  default     = "/health"

  validation {
    condition     = startswith(var.health_path, "/")
    error_message = "health_path must start with /."
  }
}

variable "failover_record_label" {
  description = "Label of the PRIMARY/SECONDARY failover records (label.zone)."
  type        = string
  default     = "api"
}

variable "app_record_label" {
  description = "Label of the simple record dr repoints (label.zone)."
  type        = string
  default     = "app"
}

variable "cdn_record_label" {
  description = "Label of the alias to CloudFront (label.zone)."
  type        = string
  default     = "www"
}

variable "ttl" {
  description = "TTL of the records dr and Route 53 fail over; short so a failover takes effect quickly."
  type        = number
  default     = 60

  validation {
    condition     = var.ttl >= 5 && var.ttl <= 300
    error_message = "ttl must be between 5 and 300 seconds for a timely failover."
  }
}

variable "routing_control_health_checks" {
  description = "RECOVERY_CONTROL health check IDs keyed primary and secondary (the routing-controls module): app.<zone> is then a failover pair driven by ARC routing controls. null: records mode, a simple record dr repoints."
  type        = map(string)
  default     = null

  validation {
    condition     = var.routing_control_health_checks == null || try(length(setsubtract(["primary", "secondary"], keys(var.routing_control_health_checks))) == 0 && length(var.routing_control_health_checks) == 2, false)
    error_message = "routing_control_health_checks must have exactly the keys primary and secondary."
  }
}

variable "cdn" {
  description = "CloudFront distribution to alias from cdn_record_label; null: no alias."
  type = object({
    domain_name    = string
    hosted_zone_id = string
  })
  default = null
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
