# dr writes tags of its own (`dr:fenced-from-security-groups` on a fenced database, holding
# the security groups to give back; `dr:created-by` on what it creates): the provider
# neither reads nor removes them, so no apply erases what dr needs to undo a fence.
provider "aws" {
  region = var.primary_region
  ignore_tags {
    key_prefixes = ["dr:"]
  }
}

# Resources this stack keeps in the standby region (the backup copy bucket and
# the ALB certificate there): data at rest and certificates that a failover
# does not change, so the standby stays operable without this stack's state.
provider "aws" {
  alias  = "secondary"
  region = var.secondary_region
  ignore_tags {
    key_prefixes = ["dr:"]
  }
}

# CloudFront only accepts certificates from us-east-1.
provider "aws" {
  alias  = "global"
  region = "us-east-1"
  ignore_tags {
    key_prefixes = ["dr:"]
  }
}

# ARC's configuration API (clusters, control panels, routing controls) answers in us-west-2
# only. Used in routing-controls mode; a failover never calls it (dr sets the controls through
# the cluster's regional endpoints).
provider "aws" {
  alias  = "arc"
  region = "us-west-2"
  ignore_tags {
    key_prefixes = ["dr:"]
  }
}
