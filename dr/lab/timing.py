"""How long AWS operations take: the timing model of the lab and of `dr plan` estimates.

One table holds the durations the `realistic` profile uses, each next to the figure AWS
publishes and where. Where AWS publishes no number, the row says so and the chosen value
is an assumption; keep those honest rather than precise.

A profile scales the table (`--time-scale`) so a drill can be rehearsed in seconds with the
same proportions, or makes everything instant for tests.
"""

from __future__ import annotations

from dataclasses import dataclass

PROMOTE_READ_REPLICA = "rds.promote_read_replica"
CREATE_READ_REPLICA = "rds.create_db_instance_read_replica"
RENAME_DB_INSTANCE = "rds.rename_db_instance"
MODIFY_DB_INSTANCE = "rds.modify_db_instance"
REBOOT_DB_INSTANCE = "rds.reboot_db_instance"
RDS_METRIC_PERIOD = "rds.cloudwatch_metric_period"
ROUTE53_CHANGE = "route53.change_insync"
CLOUDFRONT_DEPLOY = "cloudfront.distribution_deployed"
ECS_TASK_START = "ecs.task_start"
ECS_TASK_STOP = "ecs.task_stop"
CACHE_FAILOVER_GLOBAL = "elasticache.failover_global_replication_group"
CACHE_DISASSOCIATE_GLOBAL = "elasticache.disassociate_global_replication_group"
CACHE_CREATE_GLOBAL = "elasticache.create_global_replication_group"
CACHE_CREATE_GROUP = "elasticache.create_replication_group"
CACHE_DELETE_GROUP = "elasticache.delete_replication_group"


@dataclass(frozen=True)
class ModelledOperation:
    """One AWS operation's modelled duration, with the published figure behind it."""

    operation: str
    what: str
    seconds: float
    published: str
    source: str


REALISTIC: tuple[ModelledOperation, ...] = (
    ModelledOperation(
        PROMOTE_READ_REPLICA,
        "RDS read replica promotion: `modifying`, then `rebooting`, then `available`",
        300.0,
        '"several minutes or longer, depending on the size of the read replica"; '
        "RDS reboots the instance before making it available",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html",
    ),
    ModelledOperation(
        CREATE_READ_REPLICA,
        "RDS cross-Region read replica creation: `creating` until `available`",
        900.0,
        "no figure published: RDS snapshots the source and restores it in the other "
        "Region, so it grows with the data size; 15 min is an assumption",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Create.html",
    ),
    ModelledOperation(
        RENAME_DB_INSTANCE,
        "RDS instance rename (`NewDBInstanceIdentifier`): `renaming` until `available`",
        600.0,
        '"The new DNS name for the renamed DB instance becomes effective in about 10 '
        "minutes. The renamed DB instance is not available until the new name becomes "
        'effective."',
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html",
    ),
    ModelledOperation(
        MODIFY_DB_INSTANCE,
        "RDS modification applied immediately (e.g. VPC security groups): `modifying`",
        30.0,
        "no figure published; security group changes need no reboot; 30 s is an assumption",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.DBInstance.Modifying.html",
    ),
    ModelledOperation(
        REBOOT_DB_INSTANCE,
        "RDS instance reboot (RebootDBInstance, which ends every session): `rebooting` until "
        "`available`",
        60.0,
        'no figure published: "a momentary outage", its length depending on the crash '
        "recovery and the database's activity; 1 min is an assumption",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RebootInstance.html",
    ),
    ModelledOperation(
        RDS_METRIC_PERIOD,
        "RDS metrics in CloudWatch (`ReplicaLag` of a replica whose source's sessions were "
        "ended): one datapoint per period",
        60.0,
        '"Amazon RDS automatically sends metrics to CloudWatch every minute for each active '
        'database"',
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/monitoring-cloudwatch.html",
    ),
    ModelledOperation(
        ROUTE53_CHANGE,
        "Route 53 change batch: `PENDING` until `INSYNC` (GetChange)",
        60.0,
        '"designed to propagate updates ... to its world-wide network of authoritative DNS '
        'servers within 60 seconds under normal conditions"',
        "https://aws.amazon.com/route53/faqs/",
    ),
    ModelledOperation(
        CLOUDFRONT_DEPLOY,
        "CloudFront distribution create/update: `InProgress` until `Deployed`",
        300.0,
        'changes are "reliably pushed within 5 minutes" (down from 17–35 minutes)',
        "https://aws.amazon.com/blogs/networking-and-content-delivery/"
        "slashing-cloudfront-change-propagation-times-in-2020-recent-changes-and-looking-forward/",
    ),
    ModelledOperation(
        ECS_TASK_START,
        "ECS Fargate task `PROVISIONING`/`PENDING` to `RUNNING`; the tasks of one scale-out "
        "reach `RUNNING` spread between 1x and 2x this figure",
        60.0,
        "no single figure published (ENI attachment, image pull, container start); "
        "1–2 minutes is the commonly observed range",
        "https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/task.html",
    ),
    ModelledOperation(
        ECS_TASK_STOP,
        "ECS task stop on scale-in: counted as running until stopped",
        30.0,
        "containers get SIGTERM and, by default, 30 s (`stopTimeout`) before SIGKILL",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html",
    ),
    ModelledOperation(
        CACHE_FAILOVER_GLOBAL,
        "ElastiCache global datastore failover (FailoverGlobalReplicationGroup): the "
        "datastore `modifying`, then the roles swapped and `available`",
        60.0,
        'AWS\'s disaster recovery workshop gives the global datastore "RTO: 1 minute" '
        '("RPO: Generally less than 1 second")',
        "https://disaster-recovery.workshop.aws/en/services/databases/elasticache/"
        "global-datastore.html",
    ),
    ModelledOperation(
        CACHE_DISASSOCIATE_GLOBAL,
        "ElastiCache secondary removed from its global datastore "
        "(DisassociateGlobalReplicationGroup), or a primary-only datastore deleted: "
        "`modifying`/`deleting` until done",
        60.0,
        "no figure published (the CLI reference's example answers `modifying`); 1 min is an "
        "assumption",
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/"
        "API_DisassociateGlobalReplicationGroup.html",
    ),
    ModelledOperation(
        CACHE_CREATE_GLOBAL,
        "ElastiCache global datastore created around an existing primary "
        "(CreateGlobalReplicationGroup): `creating` until `primary-only`",
        120.0,
        "no figure published; 2 min is an assumption",
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/"
        "API_CreateGlobalReplicationGroup.html",
    ),
    ModelledOperation(
        CACHE_CREATE_GROUP,
        "ElastiCache replication group creation (a global datastore's new secondary among "
        "them): `creating` until `available`",
        900.0,
        "no figure published: new nodes are launched and, for a secondary, filled by a full "
        "sync from the primary; 15 min is an assumption",
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/"
        "API_CreateReplicationGroup.html",
    ),
    ModelledOperation(
        CACHE_DELETE_GROUP,
        "ElastiCache replication group deletion: `deleting` until no describe finds it",
        300.0,
        'no figure published ("ElastiCache immediately begins deleting the selected '
        'resources"); 5 min is an assumption',
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/"
        "API_DeleteReplicationGroup.html",
    ),
)

_REALISTIC_SECONDS = {row.operation: row.seconds for row in REALISTIC}

PROFILE_NAMES = ("realistic", "instant")


@dataclass(frozen=True)
class TimingProfile:
    """Modelled durations: `realistic` scaled by `time_scale`, or `instant` (all zero)."""

    name: str
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.name not in PROFILE_NAMES:
            raise ValueError(f"unknown timing profile {self.name!r}; one of {PROFILE_NAMES}")
        if self.time_scale < 0:
            raise ValueError(f"time_scale must not be negative, got {self.time_scale}")

    def duration(self, operation: str) -> float:
        """Seconds `operation` takes under this profile; unknown operations are an error."""
        seconds = _REALISTIC_SECONDS[operation]
        if self.name == "instant":
            return 0.0
        return seconds * self.time_scale


INSTANT = TimingProfile("instant")


def markdown_table(rows: tuple[ModelledOperation, ...] = REALISTIC) -> str:
    """The timing table as Markdown, for the README and generated runbooks."""
    lines = [
        "| operation | modelled (s) | published figure | source |",
        "|---|---:|---|---|",
    ]
    for row in rows:
        published = row.published.replace("|", "\\|")
        lines.append(f"| {row.what} | {row.seconds:g} | {published} | <{row.source}> |")
    return "\n".join(lines) + "\n"
