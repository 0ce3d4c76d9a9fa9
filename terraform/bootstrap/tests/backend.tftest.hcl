# Run once per environment: terraform test -var-file=../environments/<env>/bootstrap.tfvars

mock_provider "aws" {
  alias  = "primary"
  source = "../tests/mocks"
}

mock_provider "aws" {
  alias  = "secondary"
  source = "../tests/mocks"
}

run "one_backend_per_region" {
  command = plan

  assert {
    condition     = output.backends.primary.region == var.primary_region && output.backends.secondary.region == var.secondary_region
    error_message = "Each region has its own state backend."
  }
  assert {
    condition     = output.backends.primary.bucket != output.backends.secondary.bucket
    error_message = "Each region keeps its state in its own bucket."
  }
  assert {
    condition     = output.backends.primary.dynamodb_table == output.backends.secondary.dynamodb_table
    error_message = "The lock table has one name in both regions (dr.yaml lock.dynamodb_table)."
  }
}
