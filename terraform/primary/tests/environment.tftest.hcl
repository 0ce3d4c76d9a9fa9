# Run once per environment: terraform test -var-file=../environments/<env>/primary.tfvars
# Checks what each environment promises (sizes, Multi-AZ, backups, protection)
# and the shape of the dr inventory, on a plan against the mock provider.

mock_provider "aws" {
  source = "../tests/mocks"
}

mock_provider "aws" {
  alias  = "secondary"
  source = "../tests/mocks"
}

mock_provider "aws" {
  alias  = "global"
  source = "../tests/mocks"
}

mock_provider "aws" {
  alias  = "arc"
  source = "../tests/mocks"
}

run "environment_promises" {
  command = plan

  assert {
    condition     = module.database.backup_retention_days == 30
    error_message = "Automated backups are kept 30 days in every environment."
  }
  assert {
    condition     = var.environment != "prod" || (module.database.multi_az && module.database.deletion_protection)
    error_message = "prod: the database is Multi-AZ and deletion-protected."
  }
  assert {
    condition     = var.environment != "dev" || !module.database.multi_az
    error_message = "dev: a single-AZ database keeps the cost down."
  }
  assert {
    condition     = length(module.network.nat_gateway_ids) == (var.nat_gateway_per_az ? length(var.availability_zones) : 1)
    error_message = "One NAT gateway per AZ where asked for (prod), otherwise one."
  }
  assert {
    condition     = var.environment != "prod" || (var.nat_gateway_per_az && length(var.availability_zones) >= 3)
    error_message = "prod: three AZs, each with its own NAT gateway."
  }
  assert {
    condition     = length(module.network.private_subnet_ids) >= 2 && length(module.network.public_subnet_ids) >= 2
    error_message = "At least 2 AZs of public and private subnets."
  }
}

run "names_do_not_collide_with_the_standby" {
  command = plan

  assert {
    condition     = length(setintersection([for purpose in ["assets", "backups", "logs"] : "${var.app}-${var.environment}-${purpose}-usw2-123456789012"], [module.backup_copy.bucket_id, module.assets_copy.bucket_id])) == 0 && module.assets_copy.bucket_id != module.backup_copy.bucket_id
    error_message = "The copy buckets live in the standby region and must not take a name the secondary stack uses there."
  }
}

run "dr_inventory_shape" {
  command = plan

  assert {
    condition     = output.dr_inventory.role == "primary" && output.dr_inventory.region == var.primary_region && output.dr_inventory.environment == var.environment
    error_message = "The inventory names this stack's role, region and environment."
  }
  assert {
    condition     = output.dr_inventory.databases[0].identifier == "${var.app}-${var.environment}-main"
    error_message = "The inventory's database is the writer."
  }
  assert {
    condition     = output.dr_inventory.dns[0].name == "app.${var.zone_name}" && output.dr_inventory.dns[0].value == "api.use1.${var.zone_name}" && output.dr_inventory.dns[0].ttl == 60
    error_message = "dr repoints app.<zone> to this region's endpoint."
  }
  assert {
    condition     = output.dr_inventory.services[0].active_count == var.active_count && output.dr_inventory.services[0].standby_count == var.standby_count
    error_message = "The service counts come from the environment."
  }
  assert {
    condition     = output.dr_inventory.health[0].url == "https://api.use1.${var.zone_name}/health" && output.dr_inventory.health[0].expect_status == 200
    error_message = "Health is checked on this region's endpoint."
  }
  assert {
    condition     = length(output.dr_inventory.cdn) == 1 && output.dr_inventory.cdn[0].origin_id == "api" && output.dr_inventory.lock_table == "${var.app}-${var.environment}-locks"
    error_message = "The CDN origin dr repoints and the lock table are in the inventory."
  }
}

# After a failover (dr_state from environments/<env>/dr-state.tfvars overridden here): the
# old writer is declared fenced, the standby the writer, and the CDN's api origin stays on
# the region dr moved it to.
run "after_a_failover_traffic_stays_in_the_secondary" {
  command = plan

  variables {
    dr_state = { active = "secondary", protected = false }
  }

  assert {
    condition     = local.db_role == "fenced" && local.peer_db_role == "writer"
    error_message = "After a failover this region's database is the fenced old writer; the standby's is the writer."
  }
  assert {
    condition     = module.cdn[0].api_origin_domain == "api.usw2.${var.zone_name}"
    error_message = "The api origin dr repointed stays on the secondary region."
  }
}

# dr's shared journal is a table of this region; prod's Global Datastore shares its AUTH
# token with the standby through a replica of the secret, and names the cache for dr.yaml.
run "journal_and_datastore_for_dr" {
  command = plan

  assert {
    condition     = output.dr_inventory.journal_table == "${var.app}-${var.environment}-dr-journal" && module.dr_journal.table_name == output.dr_inventory.journal_table
    error_message = "The journal table (the same name in both stacks) is in the inventory."
  }
  assert {
    condition     = var.cache_global_datastore_enabled == (length(output.dr_inventory.caches) == 1)
    error_message = "The inventory names a cache exactly where there is a Global Datastore."
  }
  assert {
    condition     = !var.cache_global_datastore_enabled || try(output.dr_inventory.caches[0].global_group == "${var.app}-${var.environment}" && output.dr_inventory.caches[0].name == "redis", false)
    error_message = "The datastore is named by its ID suffix (the cache module's name)."
  }
  assert {
    condition     = output.dr_inventory.routing_control_cluster == null && output.dr_inventory.dns[0].routing_control == null && output.dr_inventory.runner == null
    error_message = "Records mode and no runner image: no routing controls, no runner in the inventory."
  }
}

# traffic_control = routing_controls: app.<zone> is a failover pair on RECOVERY_CONTROL
# health checks, CloudFront's api origin is that name, and dr needs no cdn entry.
run "routing_controls_mode" {
  command = plan

  variables {
    traffic_control = "routing_controls"
  }

  override_data {
    target = module.routing_controls[0].data.aws_region.current
    values = { name = "us-west-2" }
  }

  override_resource {
    target          = module.routing_controls[0].aws_route53recoverycontrolconfig_cluster.this[0]
    override_during = plan
    values = {
      cluster_endpoints = [
        { region = "us-east-1", endpoint = "https://host-aaaaaa.us-east-1.example.aws/v1" },
        { region = "us-west-2", endpoint = "https://host-bbbbbb.us-west-2.example.aws/v1" },
      ]
    }
  }

  assert {
    condition     = length(module.routing_controls) == 1 && module.cdn[0].api_origin_domain == "app.${var.zone_name}"
    error_message = "The api origin is the failover name routing controls drive."
  }
  assert {
    condition     = length(output.dr_inventory.cdn) == 0 && output.dr_inventory.dns[0].name == "app.${var.zone_name}"
    error_message = "dr changes nothing in CloudFront in routing-controls mode."
  }
  assert {
    condition     = output.dr_inventory.routing_control_cluster.endpoints[0] == { region = "us-east-1", url = "https://host-aaaaaa.us-east-1.example.aws/v1" } && length(output.dr_inventory.routing_control_cluster.endpoints) == 2
    error_message = "The cluster's endpoints are in the inventory (the secondary copies them from the primary's copy)."
  }
}

run "a_runner_in_this_region" {
  command = plan

  variables {
    runner_image          = "timeline/dr:0.1.0"
    runner_dr_config_yaml = "version: 1\n"
  }

  override_data {
    target = module.runner[0].data.aws_region.current
    values = { name = "us-east-1" }
  }

  assert {
    condition     = output.dr_inventory.runner.task_definition == "${var.app}-${var.environment}-dr-gameday" && output.dr_inventory.runner.container == "dr" && output.dr_inventory.runner.cluster == module.compute.cluster_name
    error_message = "The runner has the family and cluster names the secondary's has (dr.yaml runner:)."
  }
  assert {
    condition     = length(output.dr_inventory.runner.subnets) == length(var.availability_zones) && module.runner[0].schedule_arn == null
    error_message = "The primary's runner runs in its private subnets and schedules no game day."
  }
}
