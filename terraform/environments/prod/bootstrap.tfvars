environment         = "prod"
primary_region      = "us-east-1"
secondary_region    = "us-west-2"
deletion_protection = true
