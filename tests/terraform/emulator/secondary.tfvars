# Emulator-only toggles on top of environments/dev/secondary.tfvars
# (terraform/README.md "Emulator exclusions").
cache_enabled              = false
xray_sampling_rule_enabled = false
# The scheduled game day is applied too (issue 6): an image name and a dr.yaml suffice.
gameday_image          = "timeline/dr:0.1.0"
gameday_dr_config_yaml = "gameday:\n  report_bucket: timeline-dev-dr-reports\n"
