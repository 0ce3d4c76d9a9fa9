output "cluster_arn" {
  description = "The ARC cluster holding the controls."
  value       = local.cluster_arn
}

output "cluster_endpoints" {
  description = "The cluster's regional endpoints, [{region, url}] (dr.yaml routing_control_cluster.endpoints)."
  value       = local.endpoints
}

output "control_arns" {
  description = "Routing control ARN per side, keyed primary and secondary (dr.yaml dns[].routing_control)."
  value       = { for side, control in aws_route53recoverycontrolconfig_routing_control.side : side => control.arn }
}

output "health_check_ids" {
  description = "RECOVERY_CONTROL health check per side, for the failover records."
  value       = { for side, check in aws_route53_health_check.side : side => check.id }
}
