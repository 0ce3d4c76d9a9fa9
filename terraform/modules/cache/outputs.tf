output "replication_group_id" {
  description = "Replication group ID (alarm dimension prefix)."
  value       = aws_elasticache_replication_group.this.replication_group_id
}

output "primary_endpoint" {
  description = "Primary endpoint of the group."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "node_count" {
  description = "Nodes in the group (alarms derive the node IDs <group>-001... from it)."
  value       = var.num_cache_clusters
}

output "auth_secret_arn" {
  description = "Secret holding the AUTH token (null for a Global Datastore member, which uses the primary's)."
  value       = try(aws_secretsmanager_secret.auth[0].arn, null)
}

output "global_replication_group_id" {
  description = "Global Datastore ID when this group is its primary."
  value       = try(aws_elasticache_global_replication_group.this[0].global_replication_group_id, null)
}
