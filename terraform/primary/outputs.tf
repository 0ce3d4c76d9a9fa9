output "dr_inventory" {
  description = "What dr.yaml needs from this region (input of `dr config render --primary`)."
  value       = local.dr_inventory
}

output "db_instance_arn" {
  description = "ARN of the writer; the secondary derives the same ARN from its variables."
  value       = module.database.arn
}

output "zone_id" {
  description = "Hosted zone of the environment."
  value       = module.dns.zone_id
}

output "name_servers" {
  description = "Name servers to delegate the zone to."
  value       = module.dns.name_servers
}

output "alb_dns_name" {
  description = "Own DNS name of the primary ALB."
  value       = module.compute.alb_dns_name
}

output "regional_endpoints" {
  description = "Stable host names of the two regions' ALBs."
  value       = local.endpoint
}

output "cdn_distribution_id" {
  description = "CloudFront distribution (null where disabled)."
  value       = var.cdn_enabled ? module.cdn[0].distribution_id : null
}

output "cache_global_replication_group_id" {
  description = "Global Datastore ID the secondary's cache_global_replication_group_id must be set to (prod)."
  value       = var.cache_enabled ? module.cache[0].global_replication_group_id : null
}

output "ecr_repository_url" {
  description = "Where the release pipeline pushes images."
  value       = module.compute.repository_url
}

output "stop_alarm_names" {
  description = "Alarms that stop a game-day drill (dr gameday.stop_alarms)."
  value       = module.monitoring.stop_alarm_names
}

output "backups_bucket" {
  description = "Backups bucket in the primary region."
  value       = module.storage.backups_bucket_id
}

output "backup_copy_bucket" {
  description = "Cross-region copy of the backups, in the secondary region."
  value       = module.backup_copy.bucket_id
}

output "assets_copy_bucket" {
  description = "Cross-region copy of the static assets, in the secondary region (CloudFront's failover origin for /assets/*)."
  value       = module.assets_copy.bucket_id
}
