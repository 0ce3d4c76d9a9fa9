locals {
  tags     = merge(var.tags, { Module = "dr-inventory" })
  document = jsonencode(var.inventory)
}

resource "aws_ssm_parameter" "app" {
  #checkov:skip=CKV2_AWS_34:these are host names the app reads, not secrets; credentials live in Secrets Manager
  for_each    = var.app_parameters
  name        = each.key
  description = "Read by the app in this region; dr sets it to this region's value on failover"
  type        = "String"
  value       = each.value
  tags        = local.tags
}

# dr config render reads the stack outputs; this copy lets an operator (or dr)
# rebuild the configuration from inside the surviving region alone.
resource "aws_ssm_parameter" "inventory" {
  #checkov:skip=CKV2_AWS_34:the inventory holds resource names and endpoints, no secrets
  name        = "${var.parameter_prefix}/inventory/${var.inventory.role}"
  description = "DR inventory of this region's stack (JSON)"
  type        = "String"
  tier        = length(local.document) > 4096 ? "Advanced" : "Standard"
  value       = local.document
  tags        = local.tags
}
