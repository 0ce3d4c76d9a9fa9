output "table_name" {
  description = "The journal table (dr.yaml journal.dynamodb_table)."
  value       = aws_dynamodb_table.journal.name
}

output "table_arn" {
  description = "ARN of this region's table."
  value       = aws_dynamodb_table.journal.arn
}
