output "recorder_name" {
  description = "AWS Config recorder."
  value       = aws_config_configuration_recorder.this.name
}

output "rule_names" {
  description = "Managed Config rules."
  value       = [for r in aws_config_config_rule.managed : r.name]
}
