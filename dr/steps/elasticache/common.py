"""What the ElastiCache step types share: describing a replication group and its global
datastore, the membership of a group, the detach tag, the base step.

A global datastore's ID is a prefix of the region it was created in and the suffix its owner
chose (`ldgnf-timeline-sessions`); dr.yaml names the suffix (`caches[].global_group`),
because a datastore `dr reprotect` re-creates from the other region gets that region's
prefix. https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateGlobalReplicationGroup.html
"""

from __future__ import annotations

from typing import Any

from dr.aws.gateway import StepAws
from dr.config.model import Cache
from dr.runbook.context import StepContext
from dr.runbook.steptype import StepType

PRIMARY, SECONDARY = "PRIMARY", "SECONDARY"
# Put on a member before dr detaches it from its datastore (value: the datastore's ID): the
# record that a standalone group was cut off by dr, kept in AWS rather than in a journal, so
# that a later run tells "detached by a failover" from "never in the datastore".
DETACHED_TAG = "dr:detached-from-global-datastore"
ORIGIN_TAG = "dr:created-by"
REPROTECT_FOLLOW_UP = ("run `dr reprotect` when {from_region} and {to_region} both answer, "
                       "to re-create the global datastore {global_group}")


def describe_group(ctx: StepContext, region: str, group_id: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        found = ctx.aws.client("elasticache", region).describe_replication_groups(
            ReplicationGroupId=group_id)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ReplicationGroupNotFoundFault":
            return None
        raise
    return found["ReplicationGroups"][0]


def describe_global(ctx: StepContext, region: str, gid: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        found = ctx.aws.client("elasticache", region).describe_global_replication_groups(
            GlobalReplicationGroupId=gid, ShowMemberInfo=True)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "GlobalReplicationGroupNotFoundFault":
            return None
        raise
    return found["GlobalReplicationGroups"][0]


def membership(group: dict[str, Any]) -> tuple[str | None, str | None]:
    """(global datastore ID, PRIMARY or SECONDARY) of a group; (None, None) if standalone."""
    info = group.get("GlobalReplicationGroupInfo") or {}
    gid = info.get("GlobalReplicationGroupId") or None
    role = str(info.get("GlobalReplicationGroupMemberRole") or "").upper() or None
    return gid, (role if gid else None)


def suffix_of(gid: str) -> str:
    """`timeline-sessions` of `ldgnf-timeline-sessions`."""
    return gid.split("-", 1)[1] if "-" in gid else gid


def is_ours(gid: str | None, cache: Cache) -> bool:
    """The datastore is the configured one (by its suffix, whichever region made it)."""
    return bool(gid) and suffix_of(str(gid)) == cache.global_group


def detached_from(aws: StepAws, region: str, group: dict[str, Any]) -> str | None:
    """The datastore dr detached this group from (its detach tag), or None."""
    tags = aws.client("elasticache", region).list_tags_for_resource(
        ResourceName=group["ARN"])["TagList"]
    return next((t["Value"] for t in tags if t["Key"] == DETACHED_TAG), None)


def writable(group: dict[str, Any] | None) -> bool:
    """Available, and standalone or its datastore's primary: it takes writes."""
    if group is None or group.get("Status") != "available":
        return False
    gid, role = membership(group)
    return gid is None or role == PRIMARY


class CacheStep(StepType):
    reads = "caches"
    item: Cache

    @property
    def key(self) -> str:
        return self.item.name

    @property
    def group_id(self) -> str:
        """The replication group this step acts on: the cache's side in the step's region."""
        role = self.direction.to if self.acts_in == "to" else self.direction.from_
        return self.item.side(role)

    @property
    def active(self) -> str:
        """The member in the region becoming (or being) active."""
        return self.item.side(self.direction.to)

    @property
    def old_member(self) -> str:
        return self.item.side(self.direction.from_)

    @property
    def resource(self) -> str:
        return f"caches[{self.item.name}] {self.group_id} ({self.region})"

    def manual_values(self) -> dict[str, Any]:
        return {**super().manual_values(), "member": self.group_id, "active": self.active,
                "old_member": self.old_member, "global_group": self.item.global_group,
                "from_role": self.direction.from_}
