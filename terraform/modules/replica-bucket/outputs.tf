output "bucket_id" {
  description = "Name of the copy (known at plan time)."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  description = "ARN of the copy, once it is versioned (a replication destination must be)."
  value       = aws_s3_bucket.this.arn
  depends_on  = [aws_s3_bucket_versioning.this]
}

output "bucket_regional_domain_name" {
  description = "Regional domain of the copy (a CloudFront origin)."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}
