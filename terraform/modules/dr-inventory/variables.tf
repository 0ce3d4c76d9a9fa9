variable "parameter_prefix" {
  description = "SSM path under which the inventory is written, e.g. /timeline/prod/dr."
  type        = string

  validation {
    condition     = can(regex("^(/[a-zA-Z0-9_.-]+)+$", var.parameter_prefix))
    error_message = "parameter_prefix must look like /timeline/prod/dr."
  }
}

variable "app_parameters" {
  description = "SSM parameters the app reads (name => this region's value); they appear in the inventory's parameters list."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for n in keys(var.app_parameters) : can(regex("^(/[a-zA-Z0-9_.-]+)+$", n))])
    error_message = "app_parameters names must be SSM paths such as /timeline/prod/db_host."
  }
}

variable "inventory" {
  description = "The dr_inventory object of the stack (see terraform/README.md)."
  type = object({
    app         = string
    environment = string
    region      = string
    role        = string
    databases   = list(object({ name = string, identifier = string }))
    # routing_control: this side's ARC routing control, where the record is a failover pair
    # driven by routing controls (dr moves it through the cluster's data plane).
    dns           = list(object({ zone_id = string, name = string, type = string, ttl = number, value = string, routing_control = optional(string) }))
    cdn           = list(object({ distribution_id = string, origin_id = string, domain = string }))
    services      = list(object({ cluster = string, service = string, active_count = number, standby_count = number }))
    parameters    = list(object({ name = string, value = string }))
    health        = list(object({ name = string, url = string, expect_status = number }))
    sns_topic_arn = string
    lock_table    = string
    # The ARC cluster's regional endpoints, and each side's routing control (the secondary
    # finds its own here, in the primary's copy); null in records mode.
    routing_control_cluster = optional(object({
      endpoints = list(object({ region = string, url = string }))
      controls  = map(string)
    }))
    # ElastiCache global datastores: global_group is the datastore ID's suffix.
    caches = optional(list(object({ name = string, global_group = string, replication_group_id = string })), [])
    # dr's shared journal table in this region (the same name in both).
    journal_table = optional(string)
    # The ECS task dr failover --remote starts in this region (the game-day module's).
    runner = optional(object({
      cluster         = string
      task_definition = string
      container       = string
      subnets         = list(string)
      security_groups = list(string)
    }))
  })

  validation {
    condition     = contains(["primary", "secondary"], var.inventory.role)
    error_message = "inventory.role must be primary or secondary."
  }
}

variable "tags" {
  description = "Tags merged onto every resource."
  type        = map(string)
  default     = {}
}
