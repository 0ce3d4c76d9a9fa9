"""What the RDS step types share: the fence tag, describing an instance, the base step."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from dr.aws.gateway import StepAws
from dr.config.model import Database
from dr.errors import StepError
from dr.runbook.context import StepContext
from dr.runbook.steptype import StepType

# DB instance statuses (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html):
# those in which RDS accepts a promotion, and those that do not end without someone acting.
# Every other status (modifying, rebooting, backing-up, renaming, configuring-*, upgrading...)
# passes on its own: the promote step waits it out.
PROMOTABLE = frozenset({"available", "storage-optimization"})
STUCK = frozenset({"failed", "incompatible-network", "incompatible-option-group",
                   "incompatible-parameters", "incompatible-restore", "insufficient-capacity",
                   "inaccessible-encryption-credentials", "restore-error", "storage-full",
                   "stopped", "stopping", "deleting"})
FENCE_GROUP = "dr-fence"
FENCE_TAG = "dr:fenced-from-security-groups"
# A switchover's durable record, beside the fence tag (the fenced primary can no longer be
# reached, so a resumed run reads these): the old primary's final WAL position once every
# other session was ended, or (without a database connection) when dr asked for the reboot
# that ends them and when that reboot had ended them.
FINAL_LSN_TAG = "dr:switchover-final-lsn"
REBOOT_ASKED_TAG = "dr:switchover-reboot-asked"
SESSIONS_ENDED_TAG = "dr:switchover-sessions-ended"
SWITCHOVER_TAGS = (FINAL_LSN_TAG, REBOOT_ASKED_TAG, SESSIONS_ENDED_TAG)
ORIGIN_TAG = "dr:created-by"
LAG_WINDOW = timedelta(minutes=5)


def describe(ctx: StepContext, region: str, identifier: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        found = ctx.aws.client("rds", region).describe_db_instances(
            DBInstanceIdentifier=identifier)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "DBInstanceNotFound":
            return None
        raise
    return found["DBInstances"][0]


def fence_tag_value(groups: list[str]) -> str:
    """The fence tag's value: the original groups separated by spaces. RDS refuses a comma in
    a tag value (letters, digits, white-space and `_.:/=+-@` only, at most 256 characters:
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_Tag.html)."""
    value = " ".join(groups)
    if len(value) > 256:
        raise StepError(f"{len(groups)} security groups do not fit in one RDS tag value "
                        f"(256 characters): {value}")
    return value


def fence_tag_groups(value: str) -> list[str]:
    """The groups a fence tag names: separated by spaces, or by commas as dr 0.1 wrote them."""
    return re.split(r"[\s,]+", value.strip()) if value.strip() else []


def fenced_from(aws: StepAws, region: str, instance: dict[str, Any]) -> list[str] | None:
    """The security groups a fenced instance had (its fence tag), or None if not fenced."""
    value = tags_of(aws, region, instance).get(FENCE_TAG)
    return None if value is None else fence_tag_groups(value)


def unfence(aws: StepAws, region: str, instance: dict[str, Any]) -> list[str] | None:
    """Give a fenced instance back the security groups its fence tag names; the groups, or
    None when it was not fenced."""
    groups = fenced_from(aws, region, instance)
    if groups is None:
        return None
    rds = aws.client("rds", region)
    rds.modify_db_instance(DBInstanceIdentifier=instance["DBInstanceIdentifier"],
                           VpcSecurityGroupIds=groups, ApplyImmediately=True)
    rds.remove_tags_from_resource(ResourceName=instance["DBInstanceArn"],
                                  TagKeys=[FENCE_TAG, *SWITCHOVER_TAGS])
    return groups


def tags_of(aws: StepAws, region: str, instance: dict[str, Any]) -> dict[str, str]:
    found = aws.client("rds", region).list_tags_for_resource(
        ResourceName=instance["DBInstanceArn"])["TagList"]
    return {t["Key"]: t["Value"] for t in found}


def source_of(instance: dict[str, Any]) -> str | None:
    """The replica's source identifier (cross-region sources are given as ARNs)."""
    source = instance.get("ReadReplicaSourceDBInstanceIdentifier")
    return source.rsplit(":", 1)[-1] if source else None


class DatabaseStep(StepType):
    reads = "databases"
    item: Database

    @property
    def key(self) -> str:
        return self.item.name

    @property
    def identifier(self) -> str:
        """The instance this step acts on: the database's side in the step's region."""
        role = self.direction.to if self.acts_in == "to" else self.direction.from_
        return self.item.side(role)

    def manual_values(self) -> dict[str, Any]:
        return {**super().manual_values(), "identifier": self.identifier,
                "replica": self.item.side(self.direction.to),
                "old_primary": self.item.side(self.direction.from_)}


def retired_identifier(identifier: str, run_id: str) -> str:
    """`<id>-retired-<run start><run suffix>`: unique per run, stable across its resume."""
    stamp, _, suffix = run_id.partition("Z-")
    suffix = "-retired-" + "".join(c for c in stamp if c.isdigit()) + suffix
    return identifier[:63 - len(suffix)].rstrip("-") + suffix


def newest_retired(ctx: StepContext, region: str, identifier: str) -> dict[str, Any] | None:
    """The instance most recently retired from `identifier` (by this run or an earlier
    one), if RDS shows one: a rename's new name can take minutes to be found."""
    prefix = retired_identifier(identifier, ctx.run.run_id).rsplit("-retired-", 1)[0] \
        + "-retired-"
    retired = sorted((i for i in ctx.aws.client("rds", region).paginate(
        "describe_db_instances", "DBInstances") if i["DBInstanceIdentifier"].startswith(prefix)),
        key=lambda i: str(i["DBInstanceIdentifier"]))
    return retired[-1] if retired else None
