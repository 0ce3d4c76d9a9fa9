"""elasticache.retire-old-member and elasticache.recreate-global-datastore (and, in
`secondary`, elasticache.create-secondary): after a failover that detached the recovery
region's member (its region lost), the global datastore is built again around the active
member.

ElastiCache does not take an existing cluster as a secondary ("The process of adding the
cluster as secondary wipes data"), so the stale old member is deleted (with the datastore it
was left heading) and created again, under its name, as a secondary of the new datastore.
https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Redis-Global-Datastores-Getting-Started.html
After a planned failover the datastore is intact and all three find nothing to do.
"""

from __future__ import annotations

from dr.errors import StepError, VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.steptype import Manual, register
from dr.steps.elasticache.common import (
    DETACHED_TAG,
    PRIMARY,
    REPROTECT_FOLLOW_UP,
    SECONDARY,
    CacheStep,
    describe_global,
    describe_group,
    detached_from,
    is_ours,
    membership,
    writable,
)

_ROLE_QUERY = ("'ReplicationGroups[0].[Status,\n"
                 "    GlobalReplicationGroupInfo.GlobalReplicationGroupId,\n"
                 "    GlobalReplicationGroupInfo.GlobalReplicationGroupMemberRole]'")


@register
class RetireOldMember(CacheStep):
    name = "elasticache.retire-old-member"
    action = "retire"
    acts_in = "from"
    typical_seconds = 360.0
    timeout_seconds = 3600.0
    recovery_path = False
    follow_up = REPROTECT_FOLLOW_UP
    iam_actions = ("elasticache:DescribeReplicationGroups",
                   "elasticache:DescribeGlobalReplicationGroups",
                   "elasticache:DeleteGlobalReplicationGroup",
                   "elasticache:DeleteReplicationGroup")
    summary = ("Delete the old region's stale member (a cache, cut off since the failover) "
               "and the global datastore it was left heading, once the active member is "
               "writable; a member that is already the active one's secondary is kept.")
    why = ("First step of re-protection: ElastiCache takes no existing cluster as a "
           "secondary, and the new secondary must carry the configured name, which the stale "
           "member still holds. Its datastore goes first: a member cannot be deleted while in "
           "one, and it holds the datastore name the re-creation may need.")
    manual = Manual(
        procedure=f"""```bash
# The active member must take writes: otherwise {{member}} may be the only copy that does.
INFO=$(aws elasticache describe-replication-groups --region {{to_region}} \\
  --replication-group-id {{active}} --output text --query {_ROLE_QUERY})
read -r ACTIVE_STATUS ACTIVE_GLOBAL ACTIVE_ROLE <<<"$INFO"
INFO=$(aws elasticache describe-replication-groups --region {{region}} --output text --query \\
  "ReplicationGroups[?ReplicationGroupId=='{{member}}'] | [0].[Status, \\
    GlobalReplicationGroupInfo.GlobalReplicationGroupId, \\
    GlobalReplicationGroupInfo.GlobalReplicationGroupMemberRole, MemberClusters[0]]")
read -r STATUS GLOBAL_ID ROLE FIRST_NODE <<<"$INFO"
if [ "$STATUS" = None ]; then
  echo "{{member}} is deleted already"
elif [ "$ROLE" = SECONDARY ] && [ "$GLOBAL_ID" = "$ACTIVE_GLOBAL" ]; then
  echo "{{member}} is a secondary of {{active}} already: nothing to retire"
elif [ "$ACTIVE_ROLE" = SECONDARY ] || [ "$ACTIVE_STATUS" != available ]; then
  echo "{{active}} is $ACTIVE_STATUS $ACTIVE_ROLE: fail the cache over first" >&2; false
else
  # Its settings, for the new secondary (the create-secondary block reads these variables).
  INFO=$(aws elasticache describe-replication-groups --region {{region}} \\
    --replication-group-id {{member}} --output text --query 'ReplicationGroups[0].[
      length(MemberClusters), AtRestEncryptionEnabled, TransitEncryptionEnabled, KmsKeyId,
      AutomaticFailover, MultiAZ]')
  read -r OLD_NODES OLD_AT_REST OLD_TRANSIT OLD_KMS_KEY OLD_FAILOVER OLD_MULTI_AZ <<<"$INFO"
  INFO=$(aws elasticache describe-cache-clusters --region {{region}} \\
    --cache-cluster-id "$FIRST_NODE" --output text \\
    --query "CacheClusters[0].[CacheSubnetGroupName, join(' ', SecurityGroups[].SecurityGroupId)]")
  read -r OLD_SUBNET_GROUP OLD_SECURITY_GROUPS <<<"$INFO"
  if [ "$ROLE" = PRIMARY ]; then  # the datastore it was left heading: deleted, {{member}} kept
    DS_STATUS=$(aws elasticache describe-global-replication-groups --region {{region}} \\
      --global-replication-group-id "$GLOBAL_ID" --output text \\
      --query 'GlobalReplicationGroups[0].Status')
    if [ "$DS_STATUS" != deleting ]; then
      aws elasticache delete-global-replication-group --region {{region}} \\
        --global-replication-group-id "$GLOBAL_ID" --retain-primary-replication-group \\
        --query GlobalReplicationGroup.Status --output text
    fi
    until [ "$(aws elasticache describe-replication-groups --region {{region}} \\
        --replication-group-id {{member}} --output text \\
        --query 'ReplicationGroups[0].GlobalReplicationGroupInfo.GlobalReplicationGroupId')" \\
        = None ]; do
      echo "$GLOBAL_ID is being deleted: waiting"; sleep 10
    done
  fi
  # A cache, stale since it was cut off: not kept.
  if [ "$STATUS" != deleting ]; then
    aws elasticache delete-replication-group --region {{region}} \\
      --replication-group-id {{member}} --query ReplicationGroup.Status --output text
  fi
  aws elasticache wait replication-group-deleted --region {{region}} \\
    --replication-group-id {{member}}
fi
```""",
        verify="""```bash
INFO=$(aws elasticache describe-replication-groups --region {region} --output text --query \\
  "ReplicationGroups[?ReplicationGroupId=='{member}'] | [0].GlobalReplicationGroupInfo \\
    .GlobalReplicationGroupMemberRole")
case "$INFO" in
  None|SECONDARY) echo "ok: {member} is gone (or a secondary again)" ;;
  *) echo "NOT YET: {member} is still a $INFO member" >&2; false ;;
esac
```""",
        undo="""Deleting cannot be undone; the contents were a cache, stale since the
failover. The create-secondary step builds {member} again from the active member.""")

    def plan(self) -> str:
        return (f"delete the stale {self.group_id} in {self.region} (and the global datastore "
                "it was left heading), unless it is the active member's secondary already")

    def apply(self, ctx: StepContext) -> None:
        group = describe_group(ctx, self.region, self.group_id)
        if group is None:
            ctx.note(already_done=True, summary=f"{self.group_id} not found: nothing to retire")
            return
        gid, role = membership(group)
        active = describe_group(ctx, self.direction.to_region, self.active)
        if active is None:
            raise StepError(f"active member {self.active} not found in "
                            f"{self.direction.to_region}: {self.group_id} is left as it is")
        if role == SECONDARY and gid is not None and gid == membership(active)[0]:
            ctx.note(already_done=True, summary=f"{self.group_id} is a secondary of "
                     f"{self.active} already")
            return
        if not writable(active):
            raise StepError(f"{self.active} in {self.direction.to_region} is not writable "
                            f"({active.get('Status')}, {membership(active)[1] or 'standalone'}):"
                            f" fail the cache over first; {self.group_id} is left as it is")
        if gid is not None:
            if role != PRIMARY or not is_ours(gid, self.item):
                raise StepError(f"{self.group_id} is a {role} member of {gid}: not a datastore "
                                "a failover left behind")
            self._delete_datastore(ctx, gid)
        if group["Status"] != "deleting":
            ctx.aws.client("elasticache", self.region).delete_replication_group(
                ReplicationGroupId=self.group_id)
        ctx.wait(f"{self.group_id} deleted",
                 lambda: describe_group(ctx, self.region, self.group_id) is None)

    def _delete_datastore(self, ctx: StepContext, gid: str) -> None:
        datastore = describe_global(ctx, self.region, gid)
        if datastore is not None and datastore["Status"] != "deleting":
            others = [m["ReplicationGroupId"] for m in datastore.get("Members", [])
                      if m["ReplicationGroupId"] != self.group_id]
            if others:
                raise StepError(f"{gid} still has the members {others}: not a datastore a "
                                "failover left behind")
            ctx.aws.client("elasticache", self.region).delete_global_replication_group(
                GlobalReplicationGroupId=gid, RetainPrimaryReplicationGroup=True)
        ctx.note(deleted_datastore=gid)
        ctx.wait(f"{gid} deleted ({self.group_id} standalone)",
                 lambda: membership(describe_group(ctx, self.region, self.group_id)
                                    or {})[0] is None)

    def verify(self, ctx: StepContext) -> None:
        group = describe_group(ctx, self.region, self.group_id)
        if group is not None and membership(group)[1] != SECONDARY:
            raise VerifyFailed(f"{self.group_id} still exists in {self.region}")


@register
class RecreateGlobalDatastore(CacheStep):
    name = "elasticache.recreate-global-datastore"
    action = "recreate-global"
    acts_in = "to"
    typical_seconds = 120.0
    timeout_seconds = 1800.0
    recovery_path = False
    follow_up = REPROTECT_FOLLOW_UP
    iam_actions = ("elasticache:DescribeReplicationGroups",
                   "elasticache:DescribeGlobalReplicationGroups",
                   "elasticache:CreateGlobalReplicationGroup",
                   "elasticache:ListTagsForResource", "elasticache:RemoveTagsFromResource")
    summary = ("Create the global datastore again (the configured suffix; ElastiCache "
               "prefixes it with this region's code) with the active member as its primary, "
               f"and remove the member's `{DETACHED_TAG}` tag; an active member that is its "
               "datastore's primary already is left as it is.")
    why = ("After the stale member and its datastore are gone, before the new secondary "
           "joins: a secondary is created into an existing datastore.")
    manual = Manual(
        procedure="""```bash
INFO=$(aws elasticache describe-replication-groups --region {region} \\
  --replication-group-id {member} --output text --query 'ReplicationGroups[0].[ARN,
    GlobalReplicationGroupInfo.GlobalReplicationGroupId,
    GlobalReplicationGroupInfo.GlobalReplicationGroupMemberRole]')
read -r ARN GLOBAL_ID ROLE <<<"$INFO"
if [ "$ROLE" = PRIMARY ]; then
  echo "{member} is the primary of $GLOBAL_ID already"
elif [ "$GLOBAL_ID" != None ]; then
  echo "{member} is a $ROLE member of $GLOBAL_ID: fail the cache over first" >&2; false
else
  GLOBAL_ID=$(aws elasticache create-global-replication-group --region {region} \\
    --global-replication-group-id-suffix {global_group} \\
    --primary-replication-group-id {member} \\
    --global-replication-group-description 'dr reprotect: {member} as primary' \\
    --query GlobalReplicationGroup.GlobalReplicationGroupId --output text)
  TAGGED=$(aws elasticache list-tags-for-resource --region {region} --resource-name "$ARN" \\
    --output text --query "TagList[?Key=='dr:detached-from-global-datastore'] | [0].Value")
  if [ "$TAGGED" != None ]; then
    aws elasticache remove-tags-from-resource --region {region} --resource-name "$ARN" \\
      --tag-keys dr:detached-from-global-datastore > /dev/null
  fi
fi
until [[ "$(aws elasticache describe-global-replication-groups --region {region} \\
    --global-replication-group-id "$GLOBAL_ID" --output text \\
    --query 'GlobalReplicationGroups[0].Status')" =~ ^(primary-only|available)$ ]]; do
  echo "$GLOBAL_ID is being created: waiting"; sleep 10
done
```""",
        verify="""```bash
INFO=$(aws elasticache describe-replication-groups --region {region} \\
  --replication-group-id {member} --output text \\
  --query 'ReplicationGroups[0].GlobalReplicationGroupInfo.[GlobalReplicationGroupId,
    GlobalReplicationGroupMemberRole]')
case "$INFO" in
  *-{global_group}*PRIMARY) echo "ok: {member} is the primary of $INFO" ;;
  *) echo "NOT YET: {member} is $INFO" >&2; false ;;
esac
```""",
        undo="""```bash
GLOBAL_ID=$(aws elasticache describe-replication-groups --region {region} \\
  --replication-group-id {member} --output text \\
  --query 'ReplicationGroups[0].GlobalReplicationGroupInfo.GlobalReplicationGroupId')
aws elasticache delete-global-replication-group --region {region} \\
  --global-replication-group-id "$GLOBAL_ID" --retain-primary-replication-group \\
  --query GlobalReplicationGroup.Status --output text
```
Only while it has no secondary (undo elasticache.create-secondary first).""")

    def plan(self) -> str:
        return (f"create the global datastore {self.item.global_group} in {self.region} with "
                f"{self.group_id} as its primary, unless it heads one already")

    def apply(self, ctx: StepContext) -> None:
        group = describe_group(ctx, self.region, self.group_id)
        if group is None:
            raise StepError(f"{self.group_id} not found in {self.region}")
        gid, role = membership(group)
        if is_ours(gid, self.item) and role == PRIMARY:
            ctx.note(already_done=True, global_datastore=gid)
        elif gid is not None:
            raise StepError(f"{self.group_id} is a {role} member of {gid}: fail the cache over "
                            "first")
        else:
            created = ctx.aws.client("elasticache", self.region).create_global_replication_group(
                GlobalReplicationGroupIdSuffix=self.item.global_group,
                PrimaryReplicationGroupId=self.group_id,
                GlobalReplicationGroupDescription=f"dr reprotect: {self.group_id} as primary")
            ctx.note(global_datastore=created.get("GlobalReplicationGroup", {}).get(
                "GlobalReplicationGroupId"))
            if detached_from(ctx.aws, self.region, group) is not None:
                ctx.aws.client("elasticache", self.region).remove_tags_from_resource(
                    ResourceName=group["ARN"], TagKeys=[DETACHED_TAG])
        ctx.wait(f"global datastore {self.item.global_group} headed by {self.group_id}",
                 lambda: self._heads(ctx))

    def _heads(self, ctx: StepContext) -> bool:
        gid, role = membership(describe_group(ctx, self.region, self.group_id) or {})
        if role != PRIMARY or not is_ours(gid, self.item):
            return False
        datastore = describe_global(ctx, self.region, str(gid))
        return bool(datastore and datastore["Status"] in ("primary-only", "available"))

    def verify(self, ctx: StepContext) -> None:
        if not self._heads(ctx):
            raise VerifyFailed(f"{self.group_id} heads no global datastore "
                               f"{self.item.global_group}")
