variable "name" {
  description = "Name of the cluster, the control panel and (with -primary, -secondary) the routing controls, usually <app>-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,55}$", var.name))
    error_message = "name must be 1-56 letters, digits, '_' or '-' (ARC names are at most 64 characters)."
  }
}

variable "existing_cluster" {
  description = "An ARC cluster to put the control panel on instead of creating one (a cluster is billed by the hour; one serves many applications): its ARN and its endpoints as ARC lists them. null: create a cluster."
  type = object({
    arn       = string
    endpoints = list(object({ region = string, url = string }))
  })
  default = null

  validation {
    condition     = var.existing_cluster == null || try(can(regex("^arn:aws[a-z-]*:route53-recovery-control::[0-9]{12}:cluster/", var.existing_cluster.arn)) && length(var.existing_cluster.endpoints) > 0, false)
    error_message = "existing_cluster needs a cluster ARN (arn:aws:route53-recovery-control::ACCOUNT:cluster/ID) and at least one endpoint."
  }
}

variable "tags" {
  description = "Tags merged onto the health checks (ARC's resources take none here)."
  type        = map(string)
  default     = {}
}
