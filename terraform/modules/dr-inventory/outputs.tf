output "inventory_parameter_name" {
  description = "SSM parameter holding the inventory JSON."
  value       = aws_ssm_parameter.inventory.name
}

output "app_parameter_names" {
  description = "SSM parameters the app reads."
  value       = [for p in aws_ssm_parameter.app : p.name]
}
