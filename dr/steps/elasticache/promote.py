"""elasticache.promote-member: the recovery region's member of the global datastore takes
writes. Planned (the old primary's region answers): FailoverGlobalReplicationGroup makes it
the datastore's primary and the old primary a secondary, nothing lost. Region lost: it is
detached (DisassociateGlobalReplicationGroup) and stays a standalone primary; the datastore
is re-created by `dr reprotect`.
https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_FailoverGlobalReplicationGroup.html
https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DisassociateGlobalReplicationGroup.html
"""

from __future__ import annotations

from typing import Any

from dr.errors import RegionUnavailable, StepError, VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.steptype import Manual, Problem, register
from dr.steps.elasticache.common import (
    DETACHED_TAG,
    PRIMARY,
    CacheStep,
    describe_global,
    describe_group,
    detached_from,
    is_ours,
    membership,
    writable,
)

_MEMBER_QUERY = ("'ReplicationGroups[0].[Status,\n"
                 "    GlobalReplicationGroupInfo.GlobalReplicationGroupId,\n"
                 "    GlobalReplicationGroupInfo.GlobalReplicationGroupMemberRole]'")


@register
class PromoteMember(CacheStep):
    name = "elasticache.promote-member"
    action = "promote"
    acts_in = "to"
    typical_seconds = 60.0
    timeout_seconds = 1800.0
    iam_actions = ("elasticache:DescribeReplicationGroups",
                   "elasticache:DescribeGlobalReplicationGroups",
                   "elasticache:ListTagsForResource", "elasticache:AddTagsToResource",
                   "elasticache:FailoverGlobalReplicationGroup",
                   "elasticache:DisassociateGlobalReplicationGroup")
    summary = ("Make the recovery region's member of the ElastiCache global datastore "
               "writable: while the old primary's region answers, fail the datastore over to "
               "it (the old primary becomes a secondary, nothing is lost); when that region "
               "does not answer, detach it from the datastore (tagged "
               f"`{DETACHED_TAG}`) as a standalone primary. Waits until it is available and "
               "writable.")
    why = ("After the fences (from then on the old side serves nobody, so demoting its cache "
           "takes nothing from a user), beside the database promotion; the recovery region's "
           "health and the user's path wait for it, because the application's tasks there "
           "write sessions and cached relationships and must find a writable cache before "
           "they serve users. Readiness checks the member and its datastore first.")
    follow_up = ("re-create the global datastore {global_group}: run `dr reprotect` when "
                 "{from_region} answers again (it deletes the stale {old_member} there, makes "
                 "{member} the primary of a new datastore and {old_member} its secondary)")
    manual = Manual(
        procedure=f"""```bash
INFO=$(aws elasticache describe-replication-groups --region {{region}} \\
  --replication-group-id {{member}} --output text --query {_MEMBER_QUERY})
read -r STATUS GLOBAL_ID ROLE <<<"$INFO"
if [ "$GLOBAL_ID" = None ]; then
  echo "{{member}} is standalone already: it takes writes"
elif [ "$ROLE" = PRIMARY ]; then
  echo "{{member}} is the primary of $GLOBAL_ID already"
# Does {{from_region}} answer? One attempt, short timeouts: a lost region hangs.
elif AWS_MAX_ATTEMPTS=1 aws elasticache describe-replication-groups --region {{from_region}} \\
    --cli-connect-timeout 2 --cli-read-timeout 3 --replication-group-id {{old_member}} \\
    --query 'ReplicationGroups[0].Status' --output text > /dev/null; then
  # Planned: {{member}} becomes the datastore's primary, {{old_member}} its secondary.
  aws elasticache failover-global-replication-group --region {{region}} \\
    --global-replication-group-id "$GLOBAL_ID" --primary-region {{region}} \\
    --primary-replication-group-id {{member}} --query GlobalReplicationGroup.Status \\
    --output text
else
  # {{from_region}} is lost: {{member}} leaves the datastore as a standalone primary. The
  # tag records why it is standalone (dr reads it; dr reprotect re-creates the datastore).
  ARN=$(aws elasticache describe-replication-groups --region {{region}} \\
    --replication-group-id {{member}} --query 'ReplicationGroups[0].ARN' --output text)
  aws elasticache add-tags-to-resource --region {{region}} --resource-name "$ARN" \\
    --tags '[{{{{"Key":"{DETACHED_TAG}","Value":"'"$GLOBAL_ID"'"}}}}]' > /dev/null
  aws elasticache disassociate-global-replication-group --region {{region}} \\
    --global-replication-group-id "$GLOBAL_ID" --replication-group-id {{member}} \\
    --replication-group-region {{region}} --query GlobalReplicationGroup.Status --output text
fi
# Until {{member}} is available and writable (standalone, or the datastore's primary).
until INFO=$(aws elasticache describe-replication-groups --region {{region}} \\
    --replication-group-id {{member}} --output text --query {_MEMBER_QUERY})
    [[ "$INFO" == available*None || "$INFO" == available*PRIMARY ]]; do
  echo "{{member}}: $INFO; waiting"; sleep 10
done
```""",
        verify=f"""```bash
INFO=$(aws elasticache describe-replication-groups --region {{region}} \\
  --replication-group-id {{member}} --output text --query {_MEMBER_QUERY})
case "$INFO" in
  available*None) echo "ok: {{member}} is a standalone primary (writable)" ;;
  available*PRIMARY) echo "ok: {{member}} is the global datastore's primary (writable)" ;;
  *) echo "NOT YET: {{member}} is $INFO: wait, then verify again" >&2; false ;;
esac
```""",
        undo="""A failover is undone by failing back (`dr failover --to {from_role}`, whose
step does the same in the other direction). A detach cannot be undone: `dr reprotect`
re-creates the global datastore with {member} as its primary.""")

    def plan(self) -> str:
        return (f"make {self.group_id} in {self.region} writable: fail the global datastore "
                f"{self.item.global_group} over to it, or, when {self.direction.from_region} "
                "does not answer, detach it as a standalone primary")

    def check(self, ctx: StepContext) -> list[Problem]:
        group = describe_group(ctx, self.region, self.group_id)
        if group is None:
            return [Problem(self.resource, "replication group not found")]
        gid, role = membership(group)
        if gid is None:
            detached = detached_from(ctx.aws, self.region, group)
            if is_ours(detached, self.item):
                ctx.note(already_detached=detached)
                return []
            return [Problem(self.resource, "is not in the global datastore "
                            f"{self.item.global_group} (a standalone replication group)")]
        if not is_ours(gid, self.item):
            return [Problem(self.resource, f"is a member of the global datastore {gid}, not "
                            f"of {self.item.global_group}")]
        ctx.note(global_datastore=gid, member_role=role)
        old = self._old_member(ctx)
        if role == PRIMARY:
            ctx.note(already_primary=True)
            if old is not None and membership(old)[0] is None \
                    and is_ours(detached_from(ctx.aws, self.direction.from_region, old),
                                self.item):
                # Left primary of a datastore whose other member dr detached (a failover
                # with this region lost, not re-protected): it lacks what was written there.
                return [Problem(self.resource, f"is the primary of {gid}, but "
                                f"{self.old_member} in {self.direction.from_region} was "
                                "detached from it by dr: what was written there since is not "
                                "in it; --accept-data-loss makes it the writer again",
                                data_loss=True)]
            return []
        if group["Status"] != "available":
            return [Problem(self.resource, f"status is {group['Status']}, not available")]
        return []

    def _old_member(self, ctx: StepContext) -> dict[str, Any] | None:
        """The old side's member, looked at side by side with the other checks: when its
        region does not answer, the gateway marks it down here, not on the critical path."""
        try:
            found = describe_group(ctx, self.direction.from_region, self.old_member)
        except RegionUnavailable as exc:
            ctx.note(old_region_unreachable=exc.reason)
            return None
        ctx.note(old_member_status=found["Status"] if found else "not found")
        return found

    def _old_region_lost(self, ctx: StepContext) -> str | None:
        down = ctx.aws.region_down(self.direction.from_region)
        if down:
            return down
        try:
            describe_group(ctx, self.direction.from_region, self.old_member)
        except RegionUnavailable as exc:
            return exc.reason
        return None

    def apply(self, ctx: StepContext) -> None:
        group = describe_group(ctx, self.region, self.group_id)
        if group is None:
            raise StepError(f"{self.group_id} not found in {self.region}")
        gid, role = membership(group)
        if gid is None:
            if not is_ours(detached_from(ctx.aws, self.region, group), self.item):
                raise StepError(f"{self.group_id} is not in the global datastore "
                                f"{self.item.global_group}")
            self._done_before(ctx, "already_detached")
        elif not is_ours(gid, self.item):
            raise StepError(f"{self.group_id} is a member of {gid}, not of "
                            f"{self.item.global_group}")
        elif role == PRIMARY:
            self._done_before(ctx, "already_primary")
        elif self._settled_by_earlier_attempt(ctx, gid):
            ctx.note(done_by_earlier_attempt=True)
        else:
            lost = self._old_region_lost(ctx)
            if lost:
                self._detach(ctx, group, gid, lost)
            else:
                self._failover(ctx, gid)
        ctx.wait(f"{self.group_id} available and writable",
                 lambda: writable(describe_group(ctx, self.region, self.group_id)))

    def _done_before(self, ctx: StepContext, fact: str) -> None:
        """Already writable: before this run (readiness saw it so), or by this run's own
        earlier attempt, killed before it journaled (a change of this run)."""
        if ctx.detail.get(fact):
            ctx.note(already_done=True)
        else:
            ctx.note(done_by_earlier_attempt=True)

    def _settled_by_earlier_attempt(self, ctx: StepContext, gid: str) -> bool:
        """A failover or detach sent by an earlier attempt (killed before it journaled), or
        another change, may be under way: the datastore refuses the next one until it ends,
        and then this member may be writable already."""
        datastore = describe_global(ctx, self.region, gid)
        if datastore is None or datastore["Status"] != "modifying":
            return False
        ctx.note(waited_for_status="modifying")
        ctx.wait(f"global datastore {gid} to finish modifying",
                 lambda: (found := describe_global(ctx, self.region, gid)) is None
                 or found["Status"] != "modifying")
        return not ctx.dry_run and writable(describe_group(ctx, self.region, self.group_id))

    def _failover(self, ctx: StepContext, gid: str) -> None:
        ctx.aws.client("elasticache", self.region).failover_global_replication_group(
            GlobalReplicationGroupId=gid, PrimaryRegion=self.region,
            PrimaryReplicationGroupId=self.group_id)
        ctx.note(method="failover", global_datastore=gid)

    def _detach(self, ctx: StepContext, group: dict[str, Any], gid: str, reason: str) -> None:
        client = ctx.aws.client("elasticache", self.region)
        # The tag first: a run killed between the two calls still leaves the record.
        client.add_tags_to_resource(ResourceName=group["ARN"],
                                    Tags=[{"Key": DETACHED_TAG, "Value": gid}])
        client.disassociate_global_replication_group(
            GlobalReplicationGroupId=gid, ReplicationGroupId=self.group_id,
            ReplicationGroupRegion=self.region)
        ctx.note(method="disassociate", global_datastore=gid, old_region_unreachable=reason,
                 follow_up=self.follow_up.format(**self.manual_values()))

    def verify(self, ctx: StepContext) -> None:
        if not writable(describe_group(ctx, self.region, self.group_id)):
            raise VerifyFailed(f"{self.group_id} in {self.region} is not available and "
                               "writable (standalone, or its datastore's primary)")
