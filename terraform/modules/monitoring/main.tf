data "aws_region" "current" {}

locals {
  tags    = merge(var.tags, { Module = "monitoring" })
  actions = [aws_sns_topic.alerts.arn]

  alb_alarms = {
    alb-5xx = {
      metric = "HTTPCode_Target_5XX_Count", stat = "Sum", threshold = var.alb_5xx_threshold, unit = "count per minute"
      dims   = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
    }
    alb-elb-5xx = {
      metric = "HTTPCode_ELB_5XX_Count", stat = "Sum", threshold = var.alb_5xx_threshold, unit = "count per minute"
      dims   = { LoadBalancer = var.alb_arn_suffix }
    }
  }

  rds_alarms = merge(
    {
      rds-cpu         = { metric = "CPUUtilization", op = "GreaterThanThreshold", threshold = 80 }
      rds-storage     = { metric = "FreeStorageSpace", op = "LessThanThreshold", threshold = var.rds_free_storage_bytes }
      rds-connections = { metric = "DatabaseConnections", op = "GreaterThanThreshold", threshold = var.rds_max_connections }
    },
    var.db_is_replica ? {
      rds-replica-lag = { metric = "ReplicaLag", op = "GreaterThanThreshold", threshold = var.replica_lag_seconds }
    } : {}
  )

  ecs_alarms = {
    ecs-cpu    = "CPUUtilization"
    ecs-memory = "MemoryUtilization"
  }

  # ElastiCache names a group's nodes <group>-001, -002...; keying alarms by node
  # number keeps them plannable before the group exists.
  cache_nodes = var.cache == null ? {} : {
    for i in range(var.cache.node_count) : format("%03d", i + 1) => format("%s-%03d", var.cache.replication_group_id, i + 1)
  }
  cache_alarms = merge(
    { for n, id in local.cache_nodes : "redis-cpu-${n}" => { cluster = id, metric = "EngineCPUUtilization", threshold = 75 } },
    { for n, id in local.cache_nodes : "redis-evictions-${n}" => { cluster = id, metric = "Evictions", threshold = var.redis_evictions_threshold } },
  )
}

resource "aws_sns_topic" "alerts" {
  name              = "${var.name}-alerts"
  kms_master_key_id = var.kms_key_arn
  tags              = local.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alert_emails)
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "alb" {
  for_each            = local.alb_alarms
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = "${each.value.metric} above ${each.value.threshold} ${each.value.unit}"
  namespace           = "AWS/ApplicationELB"
  metric_name         = each.value.metric
  statistic           = each.value.stat
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  dimensions          = each.value.dims
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "alb_latency" {
  alarm_name          = "${var.name}-alb-latency-p99"
  alarm_description   = "p99 target response time above ${var.latency_p99_seconds} s"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.latency_p99_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  dimensions          = { LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix }
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "ecs" {
  for_each            = local.ecs_alarms
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = "ECS service ${each.value} above 85 % (autoscaling could not keep up)"
  namespace           = "AWS/ECS"
  metric_name         = each.value
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 10
  datapoints_to_alarm = 8
  threshold           = 85
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  dimensions          = { ClusterName = var.ecs_cluster_name, ServiceName = var.ecs_service_name }
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = local.tags
}

# Missing replica lag is no alarm: a promoted replica stops reporting the metric, and the
# alarm would otherwise stay in ALARM from dr's promotion until the stack's dr_state changes
# (which removes it). A replica whose replication stalls still reports a growing lag.
resource "aws_cloudwatch_metric_alarm" "rds" {
  for_each            = local.rds_alarms
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = "RDS ${each.value.metric} ${each.value.op} ${each.value.threshold}"
  namespace           = "AWS/RDS"
  metric_name         = each.value.metric
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = each.value.threshold
  comparison_operator = each.value.op
  treat_missing_data  = each.key == "rds-replica-lag" ? "missing" : "notBreaching"
  dimensions          = { DBInstanceIdentifier = var.db_identifier }
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "cache" {
  for_each            = local.cache_alarms
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = "Redis ${each.value.metric} on ${each.value.cluster} above ${each.value.threshold}"
  namespace           = "AWS/ElastiCache"
  metric_name         = each.value.metric
  statistic           = each.value.metric == "Evictions" ? "Sum" : "Average"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  dimensions          = { CacheClusterId = each.value.cluster }
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = local.tags
}

resource "aws_xray_sampling_rule" "app" {
  count          = var.xray_sampling_rule_enabled ? 1 : 0
  rule_name      = substr("${var.name}-${var.region_code}", 0, 32)
  priority       = 1000
  reservoir_size = 1
  fixed_rate     = var.xray_fixed_rate
  service_name   = var.ecs_service_name
  service_type   = "*"
  host           = "*"
  http_method    = "*"
  url_path       = "*"
  resource_arn   = "*"
  version        = 1
  tags           = local.tags
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name}-${var.region_code}"
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "ALB requests and 5xx"
          region = data.aws_region.current.name
          stat   = "Sum"
          metrics = [
            ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix],
            ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", var.alb_arn_suffix],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title   = "ECS CPU and memory"
          region  = data.aws_region.current.name
          stat    = "Average"
          metrics = [for m in values(local.ecs_alarms) : ["AWS/ECS", m, "ClusterName", var.ecs_cluster_name, "ServiceName", var.ecs_service_name]]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title   = "RDS"
          region  = data.aws_region.current.name
          stat    = "Average"
          metrics = [for a in values(local.rds_alarms) : ["AWS/RDS", a.metric, "DBInstanceIdentifier", var.db_identifier]]
        }
      },
    ]
  })
}

resource "aws_budgets_budget" "monthly" {
  count        = var.budget == null ? 0 : 1
  name         = "${var.name}-monthly"
  budget_type  = "COST"
  limit_amount = tostring(var.budget.limit_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  cost_filter {
    name   = "TagKeyValue"
    values = [format("user:Environment$%s", var.environment)]
  }

  notification {
    comparison_operator       = "GREATER_THAN"
    threshold                 = 80
    threshold_type            = "PERCENTAGE"
    notification_type         = "FORECASTED"
    subscriber_sns_topic_arns = [aws_sns_topic.alerts.arn]
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 100
    threshold_type             = "PERCENTAGE"
    notification_type          = "ACTUAL"
    subscriber_email_addresses = var.budget.emails
  }
}
