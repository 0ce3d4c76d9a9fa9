# Shared by every stack's terraform test: values the mock provider would
# otherwise invent at random, but that the stacks validate (ARN shapes, JSON
# policies, account IDs in bucket names).

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition = "aws"
  }
}

mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}

mock_data "aws_acm_certificate" {
  defaults = {
    arn = "arn:aws:acm:us-west-2:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  }
}


mock_data "aws_ssm_parameter" {
  defaults = {
    insecure_value = "{\"cdn\":[{\"distribution_id\":\"E2ABCDEFGHIJK\",\"origin_id\":\"api\",\"domain\":\"api.use1.example.com\"}],\"dns\":[{\"zone_id\":\"Z0123456789MOCK\",\"name\":\"app.example.com\",\"type\":\"CNAME\",\"ttl\":60,\"value\":\"api.use1.example.com\"}]}"
  }
}

# No database exists yet: the primary's check of the standby's instance has nothing to read.
mock_data "aws_db_instances" {
  defaults = {
    instance_identifiers = []
    instance_arns        = []
  }
}

mock_data "aws_secretsmanager_random_password" {
  defaults = {
    random_password = "mock-password-of-sufficient-length-for-redis-auth-0000000000000"
  }
}

# Resource ARNs, which the provider validates where other resources take them.
mock_resource "aws_kms_key" {
  defaults = {
    arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/mock"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    arn = "arn:aws:s3:::mock-bucket"
  }
}

mock_resource "aws_secretsmanager_secret" {
  defaults = {
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mock-AbCdEf"
  }
}

mock_resource "aws_sns_topic" {
  defaults = {
    arn = "arn:aws:sns:us-east-1:123456789012:mock"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:mock"
  }
}

mock_resource "aws_lb" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/mock/0123456789abcdef"
    arn_suffix = "app/mock/0123456789abcdef"
  }
}

mock_resource "aws_lb_target_group" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mock/0123456789abcdef"
    arn_suffix = "targetgroup/mock/0123456789abcdef"
  }
}

mock_resource "aws_ecs_cluster" {
  defaults = {
    arn = "arn:aws:ecs:us-east-1:123456789012:cluster/mock"
  }
}

mock_resource "aws_ecs_task_definition" {
  defaults = {
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/mock:1"
  }
}

mock_resource "aws_ecr_repository" {
  defaults = {
    arn            = "arn:aws:ecr:us-east-1:123456789012:repository/mock"
    repository_url = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mock"
  }
}

mock_resource "aws_db_instance" {
  defaults = {
    arn = "arn:aws:rds:us-east-1:123456789012:db:mock"
  }
}

mock_resource "aws_acm_certificate" {
  defaults = {
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  }
}

mock_resource "aws_cloudfront_distribution" {
  defaults = {
    arn = "arn:aws:cloudfront::123456789012:distribution/EMOCK"
  }
}

# ARC: ARNs in the forms dr.yaml accepts, and a cluster's endpoints as ARC lists them.
mock_resource "aws_route53recoverycontrolconfig_cluster" {
  defaults = {
    arn = "arn:aws:route53-recovery-control::123456789012:cluster/0a1b2c3d"
    cluster_endpoints = [
      { region = "us-east-1", endpoint = "https://host-aaaaaa.us-east-1.example.aws/v1" },
      { region = "us-west-2", endpoint = "https://host-bbbbbb.us-west-2.example.aws/v1" },
    ]
  }
}

mock_resource "aws_route53recoverycontrolconfig_control_panel" {
  defaults = {
    arn = "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b2c3d"
  }
}

mock_resource "aws_route53recoverycontrolconfig_routing_control" {
  defaults = {
    arn = "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b2c3d/routingcontrol/0a1b2c3d"
  }
}
