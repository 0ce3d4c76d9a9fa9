output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "public_subnet_ids" {
  description = "Public subnets (load balancer, NAT)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets (tasks, database, cache)."
  value       = aws_subnet.private[*].id
}

output "private_route_table_ids" {
  description = "Route tables of the private subnets."
  value       = aws_route_table.private[*].id
}

output "nat_gateway_ids" {
  description = "NAT gateways."
  value       = aws_nat_gateway.this[*].id
}

output "alb_security_group_id" {
  description = "Security group of the load balancer."
  value       = aws_security_group.alb.id
}

output "app_security_group_id" {
  description = "Security group of the app tasks."
  value       = aws_security_group.app.id
}

output "db_security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.db.id
}

output "cache_security_group_id" {
  description = "Security group of the cache."
  value       = aws_security_group.cache.id
}

output "flow_log_group_name" {
  description = "CloudWatch log group receiving the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow.name
}
