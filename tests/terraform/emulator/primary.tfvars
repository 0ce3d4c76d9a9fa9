# Emulator-only toggles on top of environments/dev/primary.tfvars: each turns
# off one thing moto cannot serve (terraform/README.md "Emulator exclusions").
cache_enabled              = false
cdn_enabled                = false
backup_replication_enabled = false
xray_sampling_rule_enabled = false
budget_limit_usd           = null
