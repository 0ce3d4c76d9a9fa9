# ARC routing controls for the record dr moves: one control per side on a control panel of
# an ARC cluster, and a Route 53 health check of type RECOVERY_CONTROL on each, healthy while
# its control is On. The dns module hangs the PRIMARY/SECONDARY failover records on them, so
# a failover is one UpdateRoutingControlStates through the cluster's regional endpoints (its
# data plane) and no call to the Route 53 control plane homed in us-east-1.
data "aws_region" "current" {}

locals {
  tags        = merge(var.tags, { Module = "routing-controls" })
  sides       = toset(["primary", "secondary"])
  own_cluster = var.existing_cluster == null
  cluster_arn = local.own_cluster ? aws_route53recoverycontrolconfig_cluster.this[0].arn : var.existing_cluster.arn
  endpoints = local.own_cluster ? [
    for e in aws_route53recoverycontrolconfig_cluster.this[0].cluster_endpoints : { region = e.region, url = e.endpoint }
  ] : var.existing_cluster.endpoints
}

# Billed by the hour whether or not a control moves (README): share one cluster between
# environments with existing_cluster.
resource "aws_route53recoverycontrolconfig_cluster" "this" {
  count = local.own_cluster ? 1 : 0
  name  = var.name

  lifecycle {
    # ARC's configuration API answers in us-west-2 only; a provider elsewhere fails later,
    # with an error that does not say why.
    precondition {
      condition     = data.aws_region.current.name == "us-west-2"
      error_message = "The routing-controls module needs a provider in us-west-2, where ARC's configuration API is."
    }
  }
}

resource "aws_route53recoverycontrolconfig_control_panel" "this" {
  name        = var.name
  cluster_arn = local.cluster_arn
}

# Created Off: until the active side's control is turned On, both health checks are
# unhealthy and Route 53 answers the PRIMARY record (README, "After the first apply").
resource "aws_route53recoverycontrolconfig_routing_control" "side" {
  for_each          = local.sides
  name              = "${var.name}-${each.key}"
  cluster_arn       = local.cluster_arn
  control_panel_arn = aws_route53recoverycontrolconfig_control_panel.this.arn
}

resource "aws_route53_health_check" "side" {
  for_each            = local.sides
  type                = "RECOVERY_CONTROL"
  routing_control_arn = aws_route53recoverycontrolconfig_routing_control.side[each.key].arn
  tags                = merge(local.tags, { Name = "${var.name}-${each.key}-control" })
}
