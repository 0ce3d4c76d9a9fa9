output "schedule_arn" {
  description = "The EventBridge Scheduler schedule (null when not scheduled)."
  value       = try(aws_scheduler_schedule.gameday[0].arn, null)
}

output "task_definition_arn" {
  description = "The dr task definition (run it by hand with aws ecs run-task)."
  value       = aws_ecs_task_definition.gameday.arn
}

output "task_definition_family" {
  description = "The task definition's family, the same in every region (dr.yaml runner.task_definition)."
  value       = aws_ecs_task_definition.gameday.family
}

output "container_name" {
  description = "The container a command override names (dr.yaml runner.container)."
  value       = local.container
}

output "task_role_arn" {
  description = "The role dr runs as: exactly task_policy_json."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "The role ECS starts the task with."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "Where the task's logs go."
  value       = aws_cloudwatch_log_group.gameday.name
}

output "alarm_name" {
  description = "The alarm on DrillSucceeded (failed or missing; null when not scheduled)."
  value       = try(aws_cloudwatch_metric_alarm.drill_failed_or_missing[0].alarm_name, null)
}

output "alarm_arn" {
  description = "The alarm's ARN (null when not scheduled)."
  value       = try(aws_cloudwatch_metric_alarm.drill_failed_or_missing[0].arn, null)
}
