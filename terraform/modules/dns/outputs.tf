output "zone_id" {
  description = "ID of the hosted zone."
  value       = aws_route53_zone.this.zone_id
}

output "name_servers" {
  description = "Name servers to delegate to."
  value       = aws_route53_zone.this.name_servers
}

output "app_record" {
  description = "The record dr moves: name, type, ttl (a simple record, or the failover pair of routing-controls mode)."
  value = {
    name = "${var.app_record_label}.${var.zone_name}"
    type = "CNAME"
    ttl  = var.ttl
  }
}

output "failover_record_name" {
  description = "Name of the PRIMARY/SECONDARY failover records."
  value       = "${var.failover_record_label}.${var.zone_name}"
}

output "health_check_ids" {
  description = "Health check IDs keyed primary and secondary."
  value       = { for k, v in aws_route53_health_check.region : k => v.id }
}
