locals {
  tags = merge(var.tags, { Module = "cdn" })
  # AWS managed policies, identical in every account.
  caching_optimized      = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  caching_disabled       = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
  all_viewer_except_host = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
  assets_origin_id       = "assets"
  assets_copy_origin_id  = "assets-copy"
  assets_origin_group_id = "assets-group"
  # With a copy in the other region, /assets/* goes to an origin group failing over to it.
  assets_target             = var.assets_copy_regional_domain_name == null ? local.assets_origin_id : local.assets_origin_group_id
  api_standby_origin_id     = "${var.api_origin_id}-standby"
  api_origin_group_id       = "${var.api_origin_id}-group"
  api_origin_protocol_setup = { http_port = 80, https_port = 443, origin_protocol_policy = "https-only", origin_ssl_protocols = ["TLSv1.2"] }
}

resource "aws_cloudfront_origin_access_control" "assets" {
  name                              = "${var.name}-assets"
  description                       = "Signed requests from CloudFront to the assets bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_response_headers_policy" "security" {
  name    = "${var.name}-security-headers"
  comment = "HSTS and the usual browser hardening on every response"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = true
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = true
    }
    xss_protection {
      protection = true
      mode_block = true
      override   = true
    }
  }
}

resource "aws_cloudfront_distribution" "this" {
  #checkov:skip=CKV2_AWS_47:the WAF web ACL (with the Log4j rule set) is owned by the security team per environment and attached out of band
  #checkov:skip=CKV_AWS_68:the WAF web ACL is owned by the security team per environment and attached out of band
  #checkov:skip=CKV_AWS_374:the app serves a worldwide audience; geo restriction would be a product decision, not a default
  enabled             = true
  comment             = "${var.name}: assets from S3, API from the active region's ALB"
  aliases             = var.aliases
  price_class         = var.price_class
  http_version        = "http2and3"
  is_ipv6_enabled     = true
  default_root_object = "index.html"

  origin {
    origin_id                = local.assets_origin_id
    domain_name              = var.assets_bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.assets.id
  }

  # The replicated copy in the other region: CloudFront reads it when the primary's bucket
  # answers 5xx or not at all (a regional S3 outage), for GET and HEAD, which is all
  # /assets/* allows. Uploads keep going to the primary's bucket (terraform/README.md, "What
  # fails over").
  origin {
    origin_id                = local.assets_copy_origin_id
    domain_name              = var.assets_copy_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.assets.id
  }

  origin_group {
    origin_id = local.assets_origin_group_id
    failover_criteria {
      status_codes = [500, 502, 503, 504]
    }
    member {
      origin_id = local.assets_origin_id
    }
    member {
      origin_id = local.assets_copy_origin_id
    }
  }

  # dr repoints this origin's domain to the active region, and the stack declares the
  # same (dr_state), so an apply after a failover leaves it there. The standby origin is
  # the other region, so GET traffic fails over even before dr runs.
  origin {
    origin_id   = var.api_origin_id
    domain_name = var.api_active_domain
    custom_origin_config {
      http_port              = local.api_origin_protocol_setup.http_port
      https_port             = local.api_origin_protocol_setup.https_port
      origin_protocol_policy = local.api_origin_protocol_setup.origin_protocol_policy
      origin_ssl_protocols   = local.api_origin_protocol_setup.origin_ssl_protocols
    }
  }

  origin {
    origin_id   = local.api_standby_origin_id
    domain_name = var.api_standby_domain
    custom_origin_config {
      http_port              = local.api_origin_protocol_setup.http_port
      https_port             = local.api_origin_protocol_setup.https_port
      origin_protocol_policy = local.api_origin_protocol_setup.origin_protocol_policy
      origin_ssl_protocols   = local.api_origin_protocol_setup.origin_ssl_protocols
    }
  }

  origin_group {
    origin_id = local.api_origin_group_id
    failover_criteria {
      status_codes = [500, 502, 503, 504]
    }
    member {
      origin_id = var.api_origin_id
    }
    member {
      origin_id = local.api_standby_origin_id
    }
  }

  default_cache_behavior {
    target_origin_id           = local.api_origin_group_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = local.caching_disabled
    origin_request_policy_id   = local.all_viewer_except_host
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
    compress                   = true
  }

  # Origin groups only fail over idempotent methods, so writes go straight to
  # the api origin, which dr points at the active region.
  ordered_cache_behavior {
    path_pattern               = "/api/*"
    target_origin_id           = var.api_origin_id
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = local.caching_disabled
    origin_request_policy_id   = local.all_viewer_except_host
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
    compress                   = true
  }

  ordered_cache_behavior {
    path_pattern               = "/assets/*"
    target_origin_id           = local.assets_origin_group_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    cache_policy_id            = local.caching_optimized
    response_headers_policy_id = aws_cloudfront_response_headers_policy.security.id
    compress                   = true
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  logging_config {
    bucket          = var.logs_bucket_domain_name
    prefix          = "cloudfront/"
    include_cookies = false
  }

  tags = local.tags
}
