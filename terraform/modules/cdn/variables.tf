variable "name" {
  description = "Name of the distribution's resources, usually <app>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,60}$", var.name))
    error_message = "name must be lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "aliases" {
  description = "Host names served by the distribution (covered by certificate_arn)."
  type        = list(string)
  default     = []
}

variable "certificate_arn" {
  description = "ACM certificate in us-east-1 covering the aliases."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:us-east-1:", var.certificate_arn))
    error_message = "CloudFront needs an ACM certificate in us-east-1."
  }
}

variable "assets_bucket_regional_domain_name" {
  description = "Regional domain of the assets bucket."
  type        = string
}

variable "assets_copy_regional_domain_name" {
  description = "Regional domain of the assets bucket's replicated copy in the other region: /assets/* fails over to it (GET/HEAD, on 5xx or no answer)."
  type        = string
}

variable "api_origin_id" {
  description = "Origin ID that dr repoints to the active region."
  type        = string
  default     = "api"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.api_origin_id))
    error_message = "api_origin_id must be 1-64 of [a-zA-Z0-9_-]."
  }
}

variable "api_active_domain" {
  description = "Host name of the active region's ALB (a stable name in the zone, not the ALB's own): where dr points the api origin."
  type        = string
}

variable "api_standby_domain" {
  description = "Host name of the other region's ALB, the origin group's failover member."
  type        = string
}

variable "logs_bucket_domain_name" {
  description = "Domain of the bucket receiving CloudFront access logs."
  type        = string
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_All", "PriceClass_200", "PriceClass_100"], var.price_class)
    error_message = "price_class must be PriceClass_All, PriceClass_200 or PriceClass_100."
  }
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
