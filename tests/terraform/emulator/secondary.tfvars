# Emulator-only toggles on top of environments/dev/secondary.tfvars
# (terraform/README.md "Emulator exclusions").
cache_enabled              = false
xray_sampling_rule_enabled = false
db_subnet_group_enabled    = false
