"""elasticache.create-secondary: the old region's member again, under its name, as a
secondary of the global datastore `dr reprotect` re-created around the active member."""

from __future__ import annotations

from typing import Any

from dr.errors import StepError, VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.steptype import Manual, Problem, register
from dr.steps.elasticache.common import (
    ORIGIN_TAG,
    PRIMARY,
    REPROTECT_FOLLOW_UP,
    SECONDARY,
    CacheStep,
    describe_group,
    is_ours,
    membership,
)


@register
class CreateSecondary(CacheStep):
    name = "elasticache.create-secondary"
    action = "create-secondary"
    acts_in = "from"
    typical_seconds = 900.0
    timeout_seconds = 7200.0
    recovery_path = False
    follow_up = REPROTECT_FOLLOW_UP
    iam_actions = ("elasticache:DescribeReplicationGroups", "elasticache:DescribeCacheClusters",
                   "elasticache:CreateReplicationGroup", "elasticache:AddTagsToResource")
    summary = ("Create the old region's member again, under its name, as a secondary of the "
               "re-created global datastore, with the settings the stale member had "
               "(nodes, cache subnet group, VPC security groups, encryption, KMS key, "
               "automatic failover, Multi-AZ; engine, version and AUTH come from the "
               "datastore), and wait until it is available.")
    why = ("After the datastore is re-created. It restores protection: with it, a failback is "
           "an ordinary failover of the datastore in the other direction.")
    manual = Manual(
        procedure="""```bash
GLOBAL_ID=$(aws elasticache describe-replication-groups --region {to_region} \\
  --replication-group-id {active} --output text \\
  --query 'ReplicationGroups[0].GlobalReplicationGroupInfo.GlobalReplicationGroupId')
INFO=$(aws elasticache describe-replication-groups --region {region} --output text --query \\
  "ReplicationGroups[?ReplicationGroupId=='{member}'] | [0].[ReplicationGroupId, \\
    GlobalReplicationGroupInfo.GlobalReplicationGroupId]")
read -r FOUND FOUND_GLOBAL <<<"$INFO"
if [ "$FOUND" != None ] && [ "$FOUND_GLOBAL" = "$GLOBAL_ID" ]; then
  echo "{member} is a secondary of $GLOBAL_ID already"
elif [ "$FOUND" != None ]; then
  echo "{member} exists and is no secondary of $GLOBAL_ID: retire it first" >&2; false
elif [ "$GLOBAL_ID" = None ]; then
  echo "{active} heads no global datastore: re-create it first" >&2; false
else
  # The OLD_* variables: the retired member's settings, written down by the retire block
  # before it deleted the group (or take them from the cache's Terraform inputs).
  ARGS=(--num-cache-clusters "${{OLD_NODES:?the retired member's number of nodes}}"
    --cache-subnet-group-name "${{OLD_SUBNET_GROUP:?the retired member's subnet group}}")
  [ -z "${{OLD_SECURITY_GROUPS:-}}" ] || ARGS+=(--security-group-ids $OLD_SECURITY_GROUPS)
  [ "${{OLD_AT_REST:-}}" != True ] || ARGS+=(--at-rest-encryption-enabled)
  [ "${{OLD_KMS_KEY:-None}}" = None ] || ARGS+=(--kms-key-id "$OLD_KMS_KEY")
  [ "${{OLD_TRANSIT:-}}" != True ] || ARGS+=(--transit-encryption-enabled)
  [ "${{OLD_FAILOVER:-}}" != enabled ] || ARGS+=(--automatic-failover-enabled)
  [ "${{OLD_MULTI_AZ:-}}" != enabled ] || ARGS+=(--multi-az-enabled)
  aws elasticache create-replication-group --region {region} --replication-group-id {member} \\
    --replication-group-description 'dr reprotect: secondary of {active}' \\
    --global-replication-group-id "$GLOBAL_ID" "${{ARGS[@]}}" \\
    --tags '[{{"Key":"dr:created-by","Value":"dr reprotect"}}]' \\
    --query ReplicationGroup.Status --output text
fi
aws elasticache wait replication-group-available --region {region} \\
  --replication-group-id {member}
```""",
        verify="""```bash
INFO=$(aws elasticache describe-replication-groups --region {region} \\
  --replication-group-id {member} --output text --query 'ReplicationGroups[0].[Status,
    GlobalReplicationGroupInfo.GlobalReplicationGroupMemberRole]')
case "$INFO" in
  available*SECONDARY) echo "ok: {member} is an available secondary" ;;
  *) echo "NOT YET: {member} is $INFO: wait, then verify again" >&2; false ;;
esac
```""",
        undo="""```bash
GLOBAL_ID=$(aws elasticache describe-replication-groups --region {region} \\
  --replication-group-id {member} --output text \\
  --query 'ReplicationGroups[0].GlobalReplicationGroupInfo.GlobalReplicationGroupId')
aws elasticache disassociate-global-replication-group --region {region} \\
  --global-replication-group-id "$GLOBAL_ID" --replication-group-id {member} \\
  --replication-group-region {region} --query GlobalReplicationGroup.Status --output text
# then, once it is standalone:
aws elasticache delete-replication-group --region {region} --replication-group-id {member} \\
  --query ReplicationGroup.Status --output text
```""")

    def plan(self) -> str:
        return (f"create {self.group_id} in {self.region} as a secondary of the global "
                f"datastore {self.item.global_group} headed by {self.active} "
                f"({self.direction.to_region})")

    def check(self, ctx: StepContext) -> list[Problem]:
        """Never blocks. Notes the settings of a stale member before the retire step deletes
        it: readiness facts survive a resume, so a run killed after the deletion still
        creates the new member like the old one."""
        group = describe_group(ctx, self.region, self.group_id)
        if group is None:
            return []
        gid, role = membership(group)
        if role == SECONDARY and is_ours(gid, self.item):
            return []
        ctx.note(old_member_settings=self._settings(ctx, group))
        return []

    def _settings(self, ctx: StepContext, group: dict[str, Any]) -> dict[str, Any]:
        nodes = list(group.get("MemberClusters") or [])
        first: dict[str, Any] = {}
        if nodes:
            first = ctx.aws.client("elasticache", self.region).describe_cache_clusters(
                CacheClusterId=nodes[0])["CacheClusters"][0]
        return {"nodes": max(1, len(nodes)),
                "subnet_group": first.get("CacheSubnetGroupName"),
                "security_groups": [g["SecurityGroupId"] for g in first.get("SecurityGroups", [])],
                "at_rest_encryption": bool(group.get("AtRestEncryptionEnabled")),
                "kms_key_id": group.get("KmsKeyId"),
                "transit_encryption": bool(group.get("TransitEncryptionEnabled")),
                "automatic_failover": group.get("AutomaticFailover") in ("enabled", "enabling"),
                "multi_az": group.get("MultiAZ") == "enabled"}

    def apply(self, ctx: StepContext) -> None:
        active_gid, active_role = membership(
            describe_group(ctx, self.direction.to_region, self.active) or {})
        current = describe_group(ctx, self.region, self.group_id)
        if ctx.dry_run and current is not None and membership(current) != (active_gid,
                                                                            SECONDARY):
            current = None  # a dry run's retire step only intended the deletion
        if current is not None:
            if membership(current) != (active_gid, SECONDARY) or active_gid is None:
                raise StepError(f"{self.group_id} exists in {self.region} and is not a "
                                f"secondary of {active_gid or self.active}: retire it first")
            ctx.note(already_done=True)
        else:
            if not ctx.dry_run and (active_role != PRIMARY or not is_ours(active_gid, self.item)):
                raise StepError(f"{self.active} in {self.direction.to_region} heads no global "
                                f"datastore {self.item.global_group}: re-create it first")
            ctx.aws.client("elasticache", self.region).create_replication_group(
                **self._params(ctx, active_gid or f"<{self.item.global_group} re-created>"))
        ctx.wait(f"{self.group_id} available as a secondary",
                 lambda: self._ready(ctx, active_gid))

    def _params(self, ctx: StepContext, gid: str) -> dict[str, Any]:
        settings = ctx.detail.get("old_member_settings")
        if not settings or not settings.get("subnet_group"):
            raise StepError(f"the settings of the old {self.group_id} (cache subnet group, "
                            "security groups) were not recorded before it was deleted: create "
                            f"it by hand as a secondary of {gid} (the manual procedure of "
                            f"{self.name})")
        params: dict[str, Any] = {
            "ReplicationGroupId": self.group_id, "GlobalReplicationGroupId": gid,
            "ReplicationGroupDescription": f"dr reprotect: secondary of {self.active}",
            "NumCacheClusters": settings["nodes"],
            "CacheSubnetGroupName": settings["subnet_group"],
            "Tags": [{"Key": ORIGIN_TAG, "Value": "dr reprotect"}]}
        if settings["security_groups"]:
            params["SecurityGroupIds"] = settings["security_groups"]
        if settings["at_rest_encryption"]:
            params["AtRestEncryptionEnabled"] = True
        if settings["kms_key_id"]:
            params["KmsKeyId"] = settings["kms_key_id"]
        if settings["transit_encryption"]:
            params["TransitEncryptionEnabled"] = True
        if settings["automatic_failover"]:
            params["AutomaticFailoverEnabled"] = True
        if settings["multi_az"]:
            params["MultiAZEnabled"] = True
        return params

    def _ready(self, ctx: StepContext, gid: str | None) -> bool:
        group = describe_group(ctx, self.region, self.group_id)
        return bool(group and group["Status"] == "available" and gid
                    and membership(group) == (gid, SECONDARY))

    def verify(self, ctx: StepContext) -> None:
        gid = membership(describe_group(ctx, self.direction.to_region, self.active) or {})[0]
        if not self._ready(ctx, gid):
            raise VerifyFailed(f"{self.group_id} is not an available secondary of {gid}")
