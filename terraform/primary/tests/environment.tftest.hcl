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
    condition     = !contains([for purpose in ["assets", "backups", "logs"] : "${var.app}-${var.environment}-${purpose}-usw2-123456789012"], aws_s3_bucket.backup_copy.bucket)
    error_message = "The backup copy bucket lives in the standby region and must not take a name the secondary stack uses there."
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
