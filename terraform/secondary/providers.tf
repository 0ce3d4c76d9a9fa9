# Only the standby region: this stack must stay operable when the primary
# region's APIs do not answer, so it never calls them.
provider "aws" {
  region = var.secondary_region
}
