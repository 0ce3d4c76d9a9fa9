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
    condition     = output.dr_inventory.lock_table == "${var.app}-${var.environment}-locks"
    error_message = "The lock table has the same name in both regions."
  }
}
