data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  tags      = merge(var.tags, { Module = "gameday" })
  container = "dr"
  # The task first writes its dr.yaml onto the one writable volume (the root filesystem is
  # read-only), then execs dr with the container's command as its arguments: the game day's
  # by default, or whatever `aws ecs run-task --overrides` gives (`dr failover --remote` gives
  # ["failover", "--to", R, "--yes", "--run-id", RUN_ID]). "dr" is the script's $0.
  entry_point = ["/bin/sh", "-c", "printf '%s' \"$DR_CONFIG_YAML\" > \"$DR_CONFIG\" && exec dr \"$@\"", "dr"]
  command     = concat(["gameday", "--to", var.to], var.allow_prod ? ["--allow-prod"] : [])
  account     = data.aws_caller_identity.current.account_id
  # IAM is global: the stacks of both regions build this module, so role names carry the
  # region (us-west-2 -> usw2) and the task definition's family does not.
  region_parts = split("-", data.aws_region.current.name)
  region_code  = join("", [local.region_parts[0], substr(local.region_parts[1], 0, 1), local.region_parts[2]])
  role_prefix  = "${var.name}-${local.region_code}-dr"
}

resource "aws_cloudwatch_log_group" "gameday" {
  name              = "/dr/${var.name}/gameday"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

# What dr itself may do: exactly the generated policy, nothing added here.
resource "aws_iam_role" "task" {
  name               = "${local.role_prefix}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "task" {
  name   = "dr-generated"
  role   = aws_iam_role.task.id
  policy = coalesce(var.task_policy_json, file("${path.module}/iam-policy.json"))
}

# What ECS needs to start the task: pull the image, write its logs.
resource "aws_iam_role" "execution" {
  name               = "${local.role_prefix}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_ecs_task_definition" "gameday" {
  family                   = "${var.name}-dr-gameday"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  volume {
    name = "work"
  }

  container_definitions = jsonencode([{
    name                   = local.container
    image                  = var.image
    essential              = true
    readonlyRootFilesystem = true
    entryPoint             = local.entry_point
    command                = local.command
    # The task's memory again as the container's hard limit: AWS takes the task's when it is
    # absent, moto's RunTask fails without it (docs/emulator-notes.md).
    memory           = var.memory
    workingDirectory = "/work"
    environment = [
      { name = "DR_CONFIG", value = "/work/dr.yaml" },
      { name = "DR_CONFIG_YAML", value = var.dr_config_yaml },
    ]
    mountPoints = [{ sourceVolume = "work", containerPath = "/work", readOnly = false }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.gameday.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "dr"
      }
    }
  }])

  tags = local.tags
}

data "aws_iam_policy_document" "scheduler_trust" {
  count = var.scheduled ? 1 : 0
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

data "aws_iam_policy_document" "scheduler" {
  count = var.scheduled ? 1 : 0
  statement {
    sid       = "RunTheGamedayTaskInItsCluster"
    actions   = ["ecs:RunTask"]
    resources = ["${aws_ecs_task_definition.gameday.arn_without_revision}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }

  # The schedule is encrypted with the customer managed key; the role that runs it reads it.
  statement {
    sid       = "DecryptTheSchedule"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "PassTheTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.task.arn, aws_iam_role.execution.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count              = var.scheduled ? 1 : 0
  name               = "${local.role_prefix}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust[0].json
  tags               = local.tags
}

resource "aws_iam_role_policy" "scheduler" {
  count  = var.scheduled ? 1 : 0
  name   = "run-gameday-task"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler[0].json
}

resource "aws_scheduler_schedule" "gameday" {
  count = var.scheduled ? 1 : 0

  name                         = "${var.name}-dr-gameday"
  description                  = "dr gameday: a drill of ${var.app}/${var.environment} with its report published"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  state                        = var.schedule_enabled ? "ENABLED" : "DISABLED"
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  lifecycle {
    precondition {
      condition     = can(yamldecode(var.dr_config_yaml).gameday.report_bucket)
      error_message = "A scheduled game day needs gameday.report_bucket in dr_config_yaml."
    }
    precondition {
      condition     = var.alarm_topic_arn != null
      error_message = "A scheduled game day needs alarm_topic_arn (its alarm on DrillSucceeded)."
    }
  }

  target {
    arn      = var.cluster_arn
    role_arn = aws_iam_role.scheduler[0].arn

    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.gameday.arn
      launch_type         = "FARGATE"
      task_count          = 1

      network_configuration {
        subnets          = var.subnet_ids
        security_groups  = var.security_group_ids
        assign_public_ip = false
      }
    }

    # A second start of a drill that may be half done is worse than a missed one: the
    # alarm below reports a game day that did not run.
    retry_policy {
      maximum_retry_attempts = 0
    }
  }
}

# DrillSucceeded is 1 after a game day that met its targets, 0 after any other. No datapoint
# in the window (the task never ran, or could not publish) counts as a failure too.
resource "aws_cloudwatch_metric_alarm" "drill_failed_or_missing" {
  count               = var.scheduled ? 1 : 0
  alarm_name          = "${var.name}-dr-gameday-failed-or-missing"
  alarm_description   = "The last dr game day of ${var.app}/${var.environment} failed, or none reported in ${var.expected_every_days} day(s). See the report in S3 and the log group ${aws_cloudwatch_log_group.gameday.name}."
  namespace           = "DR"
  metric_name         = "DrillSucceeded"
  dimensions          = { App = var.app, Environment = var.environment }
  statistic           = "Minimum"
  period              = var.expected_every_days * 86400
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = local.tags
}
