output "distribution_id" {
  description = "ID of the distribution (dr cdn[].distribution_id)."
  value       = aws_cloudfront_distribution.this.id
}

output "distribution_arn" {
  description = "ARN of the distribution (for the assets bucket policy)."
  value       = aws_cloudfront_distribution.this.arn
}

output "domain_name" {
  description = "CloudFront domain of the distribution."
  value       = aws_cloudfront_distribution.this.domain_name
}

output "hosted_zone_id" {
  description = "Route 53 zone of CloudFront (for alias records)."
  value       = aws_cloudfront_distribution.this.hosted_zone_id
}

output "api_origin_id" {
  description = "Origin ID dr repoints."
  value       = var.api_origin_id
}

output "api_origin_domain" {
  description = "Where the api origin points: the active region's ALB host name, or the failover name routing controls drive."
  value       = var.api_active_domain
}
