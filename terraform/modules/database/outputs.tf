output "identifier" {
  description = "Instance identifier."
  value       = aws_db_instance.this.identifier
}

output "arn" {
  description = "Instance ARN (the replica's replicate_source_db)."
  value       = aws_db_instance.this.arn
}

output "address" {
  description = "Host name of the instance."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the instance."
  value       = aws_db_instance.this.port
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed master secret (writer only; the password itself never enters state)."
  value       = try(aws_db_instance.this.master_user_secret[0].secret_arn, null)
}

output "multi_az" {
  description = "Whether the instance has a synchronous standby in a second AZ."
  value       = aws_db_instance.this.multi_az
}

output "backup_retention_days" {
  description = "Automated backup retention of the instance."
  value       = aws_db_instance.this.backup_retention_period
}

output "deletion_protection" {
  description = "Whether the instance is protected from deletion."
  value       = aws_db_instance.this.deletion_protection
}
