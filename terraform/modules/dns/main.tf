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

# The record dr repoints during a failover (records mode); Terraform only creates it
# (pointing at the active region), so that no apply, even one with a stale dr_state, sends
# traffic back to the old region.
resource "aws_route53_record" "app" {
  count   = var.routing_control_health_checks == null ? 1 : 0
  zone_id = aws_route53_zone.this.zone_id
  name    = "${var.app_record_label}.${var.zone_name}"
  type    = "CNAME"
  ttl     = var.ttl
  records = [var.regional_endpoints[var.active]]

  lifecycle {
    ignore_changes = [records]
  }
}

moved {
  from = aws_route53_record.app
  to   = aws_route53_record.app[0]
}

# Routing-controls mode: the same name as a PRIMARY/SECONDARY pair whose health checks follow
# ARC routing controls. dr moves it by turning controls On and Off (the cluster's data
# plane); nothing here changes when it does, so there is nothing for an apply to undo.
resource "aws_route53_record" "app_failover" {
  for_each        = var.routing_control_health_checks == null ? {} : { PRIMARY = "primary", SECONDARY = "secondary" }
  zone_id         = aws_route53_zone.this.zone_id
  name            = "${var.app_record_label}.${var.zone_name}"
  type            = "CNAME"
  ttl             = var.ttl
  records         = [var.regional_endpoints[each.value]]
  set_identifier  = "${each.value}-routing-control"
  health_check_id = var.routing_control_health_checks[each.value]

  failover_routing_policy {
    type = each.key
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
