output "dr_inventory" {
  description = "What dr.yaml needs from this region (input of `dr config render --secondary`)."
  value       = local.dr_inventory
}

output "db_instance_arn" {
  description = "ARN of the read replica (the writer after a failover)."
  value       = module.database.arn
}

output "alb_dns_name" {
  description = "Own DNS name of the standby ALB."
  value       = module.compute.alb_dns_name
}

output "regional_endpoint" {
  description = "Stable host name of this region's ALB."
  value       = local.endpoint
}

output "ecr_repository_url" {
  description = "Where the release pipeline pushes images for this region."
  value       = module.compute.repository_url
}

output "stop_alarm_names" {
  description = "Alarms that stop a game-day drill run in this region."
  value       = module.monitoring.stop_alarm_names
}

output "backups_bucket" {
  description = "Backups bucket of this region (used after a failover)."
  value       = module.storage.backups_bucket_id
}
