# Only the standby region: this stack must stay operable when the primary
# region's APIs do not answer, so it never calls them. dr's own tags (the fence's record
# of the security groups to give back, `dr:created-by`) are neither read nor removed.
provider "aws" {
  region = var.secondary_region
  ignore_tags {
    key_prefixes = ["dr:"]
  }
}
