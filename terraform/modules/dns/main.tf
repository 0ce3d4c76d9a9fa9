locals {
  tags = merge(var.tags, { Module = "dns" })
}

resource "aws_route53_zone" "this" {
  #checkov:skip=CKV2_AWS_38:DNSSEC signing needs a KMS key in us-east-1 and a DS record at the registrar; tracked as a registrar change, not a stack default
  #checkov:skip=CKV2_AWS_39:query logging must go to a us-east-1 log group with a Route 53 resource policy; the resolver logs of the VPCs cover the app's lookups
  name          = var.zone_name
  comment       = "timeline app; failover records managed by Terraform and dr"
  force_destroy = false
  tags          = local.tags
}

resource "aws_route53_health_check" "region" {
  for_each          = var.regional_endpoints
  type              = "HTTPS"
  fqdn              = each.value
  port              = 443
  resource_path     = var.health_path
  failure_threshold = 3
  request_interval  = 30
  measure_latency   = true
  tags              = merge(local.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_route53_record" "failover" {
  for_each        = { PRIMARY = "primary", SECONDARY = "secondary" }
  zone_id         = aws_route53_zone.this.zone_id
  name            = "${var.failover_record_label}.${var.zone_name}"
  type            = "CNAME"
  ttl             = var.ttl
  records         = [var.regional_endpoints[each.value]]
  set_identifier  = each.value
  health_check_id = aws_route53_health_check.region[each.value].id

  failover_routing_policy {
    type = each.key
  }
}

# The record dr repoints during a failover; Terraform only creates it, so that
# an apply after a failover does not silently send traffic back to the old region.
resource "aws_route53_record" "app" {
  zone_id = aws_route53_zone.this.zone_id
  name    = "${var.app_record_label}.${var.zone_name}"
  type    = "CNAME"
  ttl     = var.ttl
  records = [var.regional_endpoints["primary"]]

  lifecycle {
    ignore_changes = [records]
  }
}

resource "aws_route53_record" "cdn" {
  for_each = var.cdn == null ? {} : { A = "A", AAAA = "AAAA" }
  zone_id  = aws_route53_zone.this.zone_id
  name     = "${var.cdn_record_label}.${var.zone_name}"
  type     = each.value

  alias {
    name                   = var.cdn.domain_name
    zone_id                = var.cdn.hosted_zone_id
    evaluate_target_health = false
  }
}
