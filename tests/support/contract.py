"""The dr.yaml example of CONTRACT.md, verbatim (plus its heartbeat variant), for config tests."""

CONTRACT_YAML = """\
version: 1
app: timeline
environment: staging
regions:
  primary: us-east-1
  secondary: us-west-2
targets:
  rto_seconds: 900          # recovery time objective
  rpo_seconds: 60           # recovery point objective
databases:                  # RDS instances, each with a cross-region read replica
  - name: main
    primary: timeline-main          # instance identifier in regions.primary
    secondary: timeline-main-dr     # read replica identifier in regions.secondary
dns:                        # Route 53 records pointed at the active region
  - zone_id: Z0123456789ABC
    name: api.timeline.example.com
    type: CNAME
    ttl: 60
    primary: api.use1.timeline.example.net
    secondary: api.usw2.timeline.example.net
cdn:                        # CloudFront distributions whose origin follows the active region
  - distribution_id: E2ABCDEFGHIJK
    origin_id: api
    primary: alb.use1.timeline.example.net
    secondary: alb.usw2.timeline.example.net
services:                   # ECS services that exist under the same names in both regions
  - cluster: timeline
    service: api
    active_count: 4         # desired count in the region taking traffic
    standby_count: 1        # desired count in the warm standby
parameters:                 # SSM parameters the application reads, set in both regions
  - name: /timeline/staging/db_host
    primary: timeline-main.abc.us-east-1.rds.amazonaws.com
    secondary: timeline-main-dr.abc.us-west-2.rds.amazonaws.com
health:                     # HTTP checks; the recovery is complete when these pass
  - name: api
    primary: https://api.use1.timeline.example.net/health
    secondary: https://api.usw2.timeline.example.net/health
    expect_status: 200
notify:                     # optional
  sns_topic_arn:
    primary: arn:aws:sns:us-east-1:123456789012:dr-events
    secondary: arn:aws:sns:us-west-2:123456789012:dr-events
lock:                       # optional; default: a lock file under .dr/
  dynamodb_table: dr-locks  # exists in both regions; a run locks in its destination region,
                            # and in the other region too where it answers
gameday:                    # optional; read by `dr gameday`
  report_bucket: timeline-dr-reports-usw2   # in the recovery region
  stop_alarms: [timeline-api-5xx]            # an alarm in ALARM stops the drill
"""
