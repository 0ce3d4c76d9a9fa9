# Emulator-only toggles on top of environments/dev/primary.tfvars: each turns
# off one thing moto cannot serve (terraform/README.md "Emulator exclusions").
cache_enabled              = false
cdn_enabled                = false
xray_sampling_rule_enabled = false
budget_limit_usd           = null
# The runner `dr failover --remote --to primary` starts here (issue 19): an image name and a
# dr.yaml suffice (the test plays the container: moto's RunTask starts none).
runner_image          = "timeline/dr:0.1.0"
runner_dr_config_yaml = "version: 1\n"
