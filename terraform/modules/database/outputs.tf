output "identifier" {
  description = "Identifier of the instance in service (the one dr.yaml names)."
  value       = local.live.identifier

  # The dr_state the stack was given must describe what dr left this instance as; an apply
  # with the wrong one would move traffic or capacity back to where the database is not.
  precondition {
    condition     = local.role_matches[var.role]
    error_message = "dr_state says ${var.identifier} is ${local.role_holds[var.role]}, and it is not: set dr_state as the follow-up of dr's last failover, reprotect or failback says (terraform/README.md, \"After a failover\")."
  }
}

output "arn" {
  description = "ARN of the instance in service."
  value       = local.live.arn
}

output "address" {
  description = "Host name of the instance in service (the same for every instance dr re-creates under the identifier)."
  value       = local.live.address
}

output "port" {
  description = "Port of the instance in service."
  value       = local.live.port
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed master secret of the instance Terraform created as a writer (the password itself never enters state)."
  value       = try(aws_db_instance.original.master_user_secret[0].secret_arn, null)
}

output "multi_az" {
  description = "Whether the instance has a synchronous standby in a second AZ."
  value       = local.live.multi_az
}

output "backup_retention_days" {
  description = "Automated backup retention of the instance."
  value       = local.live.backup_retention_period
}

output "deletion_protection" {
  description = "Whether the instance is protected from deletion."
  value       = local.live.deletion_protection
}

output "retired_identifier" {
  description = "The name dr retired the instance Terraform created to (kept, fenced, for forensics); null while it is in service."
  value       = local.original_retired ? aws_db_instance.original.identifier : null
}
