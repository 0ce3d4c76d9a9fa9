output "sns_topic_arn" {
  description = "Alerts topic (dr notify)."
  value       = aws_sns_topic.alerts.arn
}

output "alarm_names" {
  description = "All alarm names; the 5xx ones are dr game-day stop alarms."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.alb : a.alarm_name],
    [aws_cloudwatch_metric_alarm.alb_latency.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.ecs : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.rds : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.cache : a.alarm_name],
  )
}

output "stop_alarm_names" {
  description = "Alarms that stop a game-day drill."
  value       = [for a in aws_cloudwatch_metric_alarm.alb : a.alarm_name]
}

output "dashboard_name" {
  description = "CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
