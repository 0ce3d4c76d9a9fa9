provider "aws" {
  region = var.primary_region
}

# Resources this stack keeps in the standby region (the backup copy bucket and
# the ALB certificate there): data at rest and certificates that a failover
# does not change, so the standby stays operable without this stack's state.
provider "aws" {
  alias  = "secondary"
  region = var.secondary_region
}

# CloudFront only accepts certificates from us-east-1.
provider "aws" {
  alias  = "global"
  region = "us-east-1"
}
