# Harness for the module tests in this directory: `terraform test` here plans
# each module on its own against the mock provider.
terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60.0, < 6.0.0"
    }
  }
}
