output "inventory_parameter_name" {
  description = "SSM parameter holding the inventory JSON."
  value       = aws_ssm_parameter.inventory.name
}

output "document" {
  description = "The inventory JSON as written to SSM (for copies in other regions)."
  value       = local.document
}

output "app_parameter_names" {
  description = "SSM parameters the app reads."
  value       = [for p in aws_ssm_parameter.app : p.name]
}
