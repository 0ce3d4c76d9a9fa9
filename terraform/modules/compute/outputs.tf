output "cluster_name" {
  description = "ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "ECS service."
  value       = aws_ecs_service.app.name
}

output "alb_dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Hosted zone of the load balancer (for alias records)."
  value       = aws_lb.this.zone_id
}

output "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (CloudWatch dimension)."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group (CloudWatch dimension)."
  value       = aws_lb_target_group.app.arn_suffix
}

output "repository_url" {
  description = "ECR repository URL."
  value       = aws_ecr_repository.app.repository_url
}

output "log_group_name" {
  description = "App log group."
  value       = aws_cloudwatch_log_group.app.name
}

output "task_role_arn" {
  description = "Role of the app tasks."
  value       = aws_iam_role.task.arn
}
