output "assets_bucket_id" {
  description = "Name of the assets bucket."
  value       = aws_s3_bucket.assets.id
}

output "assets_bucket_arn" {
  description = "ARN of the assets bucket."
  value       = aws_s3_bucket.assets.arn
}

output "assets_bucket_regional_domain_name" {
  description = "Regional domain of the assets bucket (the CloudFront origin)."
  value       = aws_s3_bucket.assets.bucket_regional_domain_name
}

output "backups_bucket_id" {
  description = "Name of the backups bucket."
  value       = aws_s3_bucket.backups.id
}

output "backups_bucket_arn" {
  description = "ARN of the backups bucket."
  value       = aws_s3_bucket.backups.arn
}

output "logs_bucket_id" {
  description = "Name of the access-log bucket."
  value       = aws_s3_bucket.logs.id
}

output "logs_bucket_domain_name" {
  description = "Domain of the access-log bucket (CloudFront logging target)."
  value       = aws_s3_bucket.logs.bucket_domain_name
}
