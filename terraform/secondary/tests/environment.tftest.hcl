# Run once per environment: terraform test -var-file=../environments/<env>/secondary.tfvars

mock_provider "aws" {
  source = "../tests/mocks"
}

run "standby_promises" {
  command = plan

  assert {
    condition     = module.database.backup_retention_days == 30
    error_message = "The replica keeps 30 days of backups, ready for promotion."
  }
  assert {
    condition     = var.environment != "prod" || (module.database.multi_az && module.database.deletion_protection)
    error_message = "prod: the replica is Multi-AZ and deletion-protected, so a promoted writer is highly available at once."
  }
  assert {
    condition     = local.primary_db_arn == "arn:aws:rds:${var.primary_region}:123456789012:db:${var.app}-${var.environment}-main"
    error_message = "The replica follows the primary's writer, derived without reading the primary's state."
  }
  assert {
    condition     = length(module.network.nat_gateway_ids) == (var.nat_gateway_per_az ? length(var.availability_zones) : 1)
    error_message = "One NAT gateway per AZ where asked for (prod), otherwise one."
  }
}

run "dr_inventory_shape" {
  command = plan

  assert {
    condition     = output.dr_inventory.role == "secondary" && output.dr_inventory.region == var.secondary_region
    error_message = "The inventory names this stack's role and region."
  }
  assert {
    condition     = output.dr_inventory.databases[0].identifier == "${var.app}-${var.environment}-main-dr"
    error_message = "The inventory's database is the replica."
  }
  assert {
    condition     = output.dr_inventory.dns[0].name == "app.${var.zone_name}" && output.dr_inventory.dns[0].value == "api.usw2.${var.zone_name}"
    error_message = "dr repoints app.<zone> to this region's endpoint on failover."
  }
  assert {
    condition     = output.dr_inventory.cdn[0].distribution_id == "E2ABCDEFGHIJK" && output.dr_inventory.cdn[0].origin_id == "api" && output.dr_inventory.cdn[0].domain == "api.usw2.${var.zone_name}"
    error_message = "dr repoints the primary's CDN origin (read from the primary's inventory copy in this region) to this region."
  }
  assert {
    condition     = output.dr_inventory.dns[0].zone_id == "Z0123456789MOCK"
    error_message = "The hosted zone comes from the primary's inventory copy in this region, not from Route 53's control plane."
  }
  assert {
    condition     = output.dr_inventory.lock_table == "${var.app}-${var.environment}-locks"
    error_message = "The lock table has the same name in both regions."
  }
}

run "after_a_failover_this_region_is_the_writer" {
  command = plan

  variables {
    dr_state = { active = "secondary", protected = false }
  }

  assert {
    condition     = local.db_role == "writer"
    error_message = "After a failover the standby's database is the writer."
  }
  assert {
    condition     = output.dr_inventory.databases[0].identifier == "${var.app}-${var.environment}-main-dr"
    error_message = "The inventory (and so dr.yaml) does not change with dr_state."
  }
}

# Routing-controls mode, read from the primary's inventory copy in this region (never from
# ARC's configuration API or Route 53): this side's control and the cluster's endpoints.
run "routing_controls_from_the_primary_copy" {
  command = plan

  override_data {
    target = data.aws_ssm_parameter.primary_inventory
    values = {
      insecure_value = "{\"cdn\":[],\"dns\":[{\"zone_id\":\"Z0123456789MOCK\",\"name\":\"app.example.com\",\"type\":\"CNAME\",\"ttl\":60,\"value\":\"api.use1.example.com\",\"routing_control\":\"arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b/routingcontrol/aa11\"}],\"routing_control_cluster\":{\"endpoints\":[{\"region\":\"us-west-2\",\"url\":\"https://host-b.us-west-2.example.aws/v1\"}],\"controls\":{\"primary\":\"arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b/routingcontrol/aa11\",\"secondary\":\"arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b/routingcontrol/bb22\"}}}"
    }
  }

  assert {
    condition     = output.dr_inventory.dns[0].routing_control == "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b/routingcontrol/bb22"
    error_message = "The secondary's record names the secondary's routing control."
  }
  assert {
    condition     = output.dr_inventory.routing_control_cluster.endpoints == [{ region = "us-west-2", url = "https://host-b.us-west-2.example.aws/v1" }] && length(output.dr_inventory.cdn) == 0
    error_message = "The cluster's endpoints are the primary's copy; no cdn entry, as in the primary's."
  }
}

run "records_mode_and_journal" {
  command = plan

  assert {
    condition     = output.dr_inventory.dns[0].routing_control == null && output.dr_inventory.routing_control_cluster == null
    error_message = "A primary in records mode: no routing controls here either."
  }
  assert {
    condition     = output.dr_inventory.journal_table == "${var.app}-${var.environment}-dr-journal" && module.dr_journal.table_name == output.dr_inventory.journal_table
    error_message = "The journal table has the primary's table's name."
  }
  assert {
    condition     = length(output.dr_inventory.caches) == 0 || var.cache_global_replication_group_id != null
    error_message = "Only a Global Datastore member is a cache dr moves."
  }
}

# A member of the primary's Global Datastore: its tasks read the primary's AUTH token from
# the replica in this region, and the inventory names the datastore by its ID suffix.
run "a_global_datastore_member" {
  command = plan

  variables {
    cache_global_replication_group_id = "ldgnf-timeline-shared"
  }

  assert {
    condition     = local.app_secrets.REDIS_AUTH == "${var.app}-${var.environment}/redis-auth"
    error_message = "The member's tasks read the replica of the primary's AUTH secret, by name."
  }
  assert {
    condition     = length(output.dr_inventory.caches) == 1 && output.dr_inventory.caches[0].name == "redis" && output.dr_inventory.caches[0].global_group == "timeline-shared" && output.dr_inventory.caches[0].replication_group_id == "${var.app}-${var.environment}"
    error_message = "The datastore's suffix and this region's member are in the inventory."
  }
}

run "the_runner_is_the_gameday_task" {
  command = plan

  variables {
    gameday_image          = "timeline/dr:0.1.0"
    gameday_dr_config_yaml = "gameday:\n  report_bucket: timeline-dr-reports\n"
  }

  override_data {
    target = module.gameday[0].data.aws_region.current
    values = { name = "us-west-2" }
  }

  assert {
    condition     = output.dr_inventory.runner.task_definition == "${var.app}-${var.environment}-dr-gameday" && output.dr_inventory.runner.container == "dr" && length(output.dr_inventory.runner.security_groups) == 1
    error_message = "dr failover --remote starts the game-day task definition here."
  }
}
