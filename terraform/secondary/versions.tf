terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60.0, < 6.0.0"
    }
  }

  # Partial configuration: terraform/environments/<env>/secondary.s3.tfbackend
  # names a bucket and lock table in the secondary region, so this stack can be
  # planned and applied while the primary region is down.
  backend "s3" {}
}
