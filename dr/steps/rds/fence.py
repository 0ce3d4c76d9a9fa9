"""rds.fence-primary: the old primary takes no more connections."""

from __future__ import annotations

import threading
from typing import Any

from dr.errors import StepError, VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.steptype import Direction, Manual, Problem, register
from dr.steps.rds import switchover
from dr.steps.rds.common import (
    FENCE_GROUP,
    FENCE_TAG,
    ORIGIN_TAG,
    STUCK,
    SWITCHOVER_TAGS,
    DatabaseStep,
    describe,
    fence_tag_value,
    source_of,
    tags_of,
    unfence,
)


@register
class FencePrimary(DatabaseStep):
    name = "rds.fence-primary"
    action = "fence"
    acts_in = "from"
    best_effort = True
    typical_seconds = 45.0
    # The fence itself; a switchover adds databases[].switchover_timeout_seconds (__init__).
    timeout_seconds = 120.0
    iam_actions = ("rds:DescribeDBInstances", "rds:ModifyDBInstance", "rds:AddTagsToResource",
                   "rds:ListTagsForResource", "rds:RemoveTagsFromResource",
                   "rds:RebootDBInstance", "rds:DescribeEvents",
                   "cloudwatch:GetMetricStatistics",
                   "secretsmanager:GetSecretValue",
                   "ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup",
                   "ec2:RevokeSecurityGroupEgress", "ec2:DescribeVpcs", "ec2:CreateTags")
    summary = ("Fence the old primary: replace its VPC security groups with a deny-all fence "
               "group, keeping the original groups in a tag so the fence can be undone. While "
               "it answers (a switchover), also end every session still open on it and wait "
               "until the replica holds its last commit; not proven in time, unfence it and "
               "fail.")
    why = ("Before the replica is promoted, so that no client can write to both sides "
           "(split brain), and, in a planned move, so that nothing committed is lost. Best "
           "effort: when the old region does not answer it is skipped and left on the "
           "follow-up list; it is fenced by then by the outage itself (a failover).")
    follow_up = ("fence {old_primary} in {from_region} when the region answers again "
                 "(see the manual procedure of rds.fence-primary)")
    manual = Manual(
        procedure="""```bash
# The instance's ARN, VPC and security groups, and its source if it is a read replica.
INFO=$(aws rds describe-db-instances --region {region} --db-instance-identifier {identifier} \\
  --query "DBInstances[0].[DBInstanceArn, DBSubnetGroup.VpcId, \\
    ReadReplicaSourceDBInstanceIdentifier, join(' ', VpcSecurityGroups[].VpcSecurityGroupId)]" \\
  --output text)
read -r DB_ARN VPC_ID SOURCE ORIGINAL_SGS <<<"$INFO"
if [ "$SOURCE" != None ]; then
  echo "{identifier} is a read replica: it takes no writes, nothing to fence"
else
  if [ "$VPC_ID" = None ]; then  # no DB subnet group: the default VPC
    VPC_ID=$(aws ec2 describe-vpcs --region {region} --filters Name=isDefault,Values=true \\
      --query 'Vpcs[0].VpcId' --output text)
  fi
  # The fence group: one per VPC, made once, tagged as dr's, without any rule.
  FENCE_SG=$(aws ec2 describe-security-groups --region {region} \\
    --filters Name=group-name,Values=dr-fence Name=vpc-id,Values="$VPC_ID" \\
    --query 'SecurityGroups[0].GroupId' --output text)
  if [ "$FENCE_SG" = None ]; then
    FENCE_SG=$(aws ec2 create-security-group --region {region} --vpc-id "$VPC_ID" \\
      --group-name dr-fence --description 'dr fence: no ingress, no egress' \\
      --tag-specifications \\
      '[{{"ResourceType":"security-group","Tags":[{{"Key":"dr:created-by","Value":"dr"}}]}}]' \\
      --query GroupId --output text)
  fi
  EGRESS=$(aws ec2 describe-security-groups --region {region} --group-ids "$FENCE_SG" \\
    --query 'SecurityGroups[0].IpPermissionsEgress' --output json)
  if [ "$EGRESS" != "[]" ]; then
    aws ec2 revoke-security-group-egress --region {region} --group-id "$FENCE_SG" \\
      --ip-permissions "$EGRESS" --query Return --output text
  fi
  if [ "$ORIGINAL_SGS" = "$FENCE_SG" ]; then
    echo "{identifier} is fenced already (its only group is $FENCE_SG)"
  else
    # The original groups, once: a tag already there is the record of an earlier fence.
    # Separated by spaces: RDS refuses a comma in a tag value.
    TAGGED=$(aws rds list-tags-for-resource --region {region} --resource-name "$DB_ARN" \\
      --query "TagList[?Key=='dr:fenced-from-security-groups'] | [0].Value" --output text)
    if [ "$TAGGED" = None ]; then
      aws rds add-tags-to-resource --region {region} --resource-name "$DB_ARN" \\
        --tags '[{{"Key":"dr:fenced-from-security-groups","Value":"'"$ORIGINAL_SGS"'"}}]'
    fi
    aws rds modify-db-instance --region {region} --db-instance-identifier {identifier} \\
      --vpc-security-group-ids "$FENCE_SG" --apply-immediately \\
      --query DBInstance.DBInstanceStatus --output text
  fi
fi
aws rds wait db-instance-available --region {region} --db-instance-identifier {identifier}
# A planned move (it answers, and {replica} still replicates it): a security-group change
# keeps the sessions already open, so a reboot ends them all; then {replica} must have
# applied everything: ReplicaLag 0 for a whole period after that (AWS's check before a
# promotion). The moment the sessions ended is kept in a tag, for a second run.
STATUS=$(aws rds describe-db-instances --region {region} --db-instance-identifier {identifier} \\
  --query 'DBInstances[0].DBInstanceStatus' --output text)
REPLICATES=$(aws rds describe-db-instances --region {to_region} \\
  --db-instance-identifier {replica} \\
  --query 'DBInstances[0].ReadReplicaSourceDBInstanceIdentifier' --output text)
if [ "$SOURCE" = None ] && [ "$STATUS" = available ] && [ "$REPLICATES" != None ]; then
  ENDED=$(aws rds list-tags-for-resource --region {region} --resource-name "$DB_ARN" \\
    --query "TagList[?Key=='dr:switchover-sessions-ended'] | [0].Value" --output text)
  if [ "$ENDED" = None ]; then
    aws rds reboot-db-instance --region {region} --db-instance-identifier {identifier} \\
      --query DBInstance.DBInstanceStatus --output text
    aws rds wait db-instance-available --region {region} --db-instance-identifier {identifier}
    ENDED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    aws rds add-tags-to-resource --region {region} --resource-name "$DB_ARN" \\
      --tags "Key=dr:switchover-sessions-ended,Value=$ENDED"
  fi
  until [ "$(aws cloudwatch get-metric-statistics --region {to_region} --namespace AWS/RDS \\
      --metric-name ReplicaLag --dimensions Name=DBInstanceIdentifier,Value={replica} \\
      --start-time "$ENDED" --end-time $(( $(date +%s) + 60 )) --period 60 \\
      --statistics Minimum Maximum \\
      --query 'length(Datapoints[?Minimum==`0` && Maximum==`0`])' --output text)" -gt 0 ]; do
    echo "{replica}: no ReplicaLag period at 0 since $ENDED yet: waiting"; sleep 10
  done
fi
```
Not at 0 within {switchover_timeout}: do not promote; undo the fence (its Undo below) and
find out why the replica is behind. With `psql` and the database's heartbeat connection the
proof comes from the data instead of the metric (what dr does when one is configured): open
a session to the old primary *before* the fence; after it, end the others
(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend'
AND pid <> pg_backend_pid() AND usename <> 'rdsadmin'`), commit an empty transaction
(`BEGIN; SELECT txid_current(); COMMIT;`), read `SELECT pg_current_wal_flush_lsn()`, and
promote only once `SELECT pg_last_wal_replay_lsn() >= 'LSN'::pg_lsn` is true on {replica}.""",
        verify="""```bash
INFO=$(aws rds describe-db-instances --region {region} --db-instance-identifier {identifier} \\
  --query "DBInstances[0].[ReadReplicaSourceDBInstanceIdentifier, \\
    join(' ', VpcSecurityGroups[].VpcSecurityGroupId)]" --output text)
read -r SOURCE SGS <<<"$INFO"
NAMES=$(aws ec2 describe-security-groups --region {region} --group-ids $SGS \\
  --query "join(' ',SecurityGroups[].GroupName)" --output text)
if [ "$SOURCE" != None ] || [ "$NAMES" = dr-fence ]; then
  echo "ok: {identifier} takes no writes (fenced, or a read replica)"
else
  echo "NOT FENCED: {identifier} has the groups $SGS ($NAMES)" >&2; false
fi
```""",
        undo="""```bash
DB_ARN=$(aws rds describe-db-instances --region {region} --db-instance-identifier {identifier} \\
  --query 'DBInstances[0].DBInstanceArn' --output text)
ORIGINAL_SGS=$(aws rds list-tags-for-resource --region {region} --resource-name "$DB_ARN" \\
  --query "TagList[?Key=='dr:fenced-from-security-groups'] | [0].Value" --output text)
if [ "$ORIGINAL_SGS" = None ]; then
  echo "{identifier} has no fence tag: not fenced, nothing to undo"
else
  # The groups the tag names (dr 0.1 separated them by commas: read both ways).
  aws rds modify-db-instance --region {region} --db-instance-identifier {identifier} \\
    --vpc-security-group-ids ${{ORIGINAL_SGS//,/ }} --apply-immediately \\
    --query DBInstance.DBInstanceStatus --output text
  aws rds remove-tags-from-resource --region {region} --resource-name "$DB_ARN" \\
    --tag-keys dr:fenced-from-security-groups dr:switchover-final-lsn \\
    dr:switchover-reboot-asked dr:switchover-sessions-ended
  aws rds wait db-instance-available --region {region} --db-instance-identifier {identifier}
fi
```""")

    def __init__(self, item: Any, direction: Direction, *, best_effort: bool | None = None
                 ) -> None:
        super().__init__(item, direction, best_effort=best_effort)
        self.timeout_seconds = FencePrimary.timeout_seconds + item.switchover_timeout_seconds

    def manual_values(self) -> dict[str, Any]:
        return {**super().manual_values(),
                "switchover_timeout": f"{self.item.switchover_timeout_seconds:g} s"}

    def plan(self) -> str:
        proof = ("its final WAL position replayed by the replica" if self.item.heartbeat
                 else "ReplicaLag 0 after a reboot ends its sessions")
        return (f"fence {self.identifier} in {self.region}: security groups -> {FENCE_GROUP} "
                "(deny all), originals kept in a tag; while it answers, a switchover: no "
                f"session left on it and {proof}, within "
                f"{self.item.switchover_timeout_seconds:g} s")

    def check(self, ctx: StepContext) -> list[Problem]:
        """Never blocks. Looking at the old primary during readiness finds out, side by side
        with the other checks, whether its region answers: when it does not, the fence is
        skipped at once instead of waiting for the region's timeout on the critical path."""
        instance = describe(ctx, self.region, self.identifier)
        ctx.note(old_primary_status=instance["DBInstanceStatus"] if instance else "not found")
        return []

    # Databases in one VPC share the fence group: their fence steps run side by side, so the
    # create is done by one at a time (no CreateSecurityGroup sent twice). Looking it up needs
    # no lock, so once the group exists the fences of a large estate do not queue here.
    _group_lock = threading.Lock()

    def _fence_group(self, ctx: StepContext, vpc_id: str) -> str:
        group = self._existing_group(ctx, vpc_id)
        if group:
            return group
        with FencePrimary._group_lock:
            return self._existing_group(ctx, vpc_id) or self._create_group(ctx, vpc_id)

    def _existing_group(self, ctx: StepContext, vpc_id: str) -> str | None:
        found = ctx.aws.client("ec2", self.region).describe_security_groups(Filters=[
            {"Name": "group-name", "Values": [FENCE_GROUP]},
            {"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
        return str(found[0]["GroupId"]) if found else None

    def _create_group(self, ctx: StepContext, vpc_id: str) -> str:
        from botocore.exceptions import ClientError

        ec2 = ctx.aws.client("ec2", self.region)
        try:
            created = ec2.create_security_group(
                GroupName=FENCE_GROUP, VpcId=vpc_id,
                Description="dr fence: no ingress, no egress",
                TagSpecifications=[{"ResourceType": "security-group",
                                    "Tags": [{"Key": ORIGIN_TAG, "Value": "dr"}]}])
        except ClientError as exc:
            # Databases in one VPC are fenced in parallel: another step made it first.
            if exc.response["Error"]["Code"] != "InvalidGroup.Duplicate":
                raise
            return self._existing_group(ctx, vpc_id) or FENCE_GROUP
        group_id = created.get("GroupId", f"<{FENCE_GROUP} in {vpc_id}>")
        ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        return str(group_id)

    def _vpc(self, ctx: StepContext, instance: dict[str, Any]) -> str:
        vpc = (instance.get("DBSubnetGroup") or {}).get("VpcId")
        if vpc:
            return str(vpc)
        default = ctx.aws.client("ec2", self.region).describe_vpcs(
            Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not default:
            raise StepError(f"{self.identifier}: no VPC found to create the fence group in")
        return str(default[0]["VpcId"])

    def apply(self, ctx: StepContext) -> None:
        instance = describe(ctx, self.region, self.identifier)
        if instance is None:
            ctx.note(already_done=True, summary=f"{self.identifier} not found: nothing to fence")
            return
        if source_of(instance):
            ctx.note(already_done=True, summary=f"{self.identifier} is a read replica: "
                     "it takes no writes")
            return
        groups = [g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups", [])]
        fence = self._fence_group(ctx, self._vpc(ctx, instance))
        # It answers (its API, and a status that passes by itself) and the instance to promote
        # replicates it: a planned move, which must lose nothing. A primary that is failed,
        # stopped, full... takes no commit either, and a target that is no replica of it (a
        # fenced former primary, accepted as a data loss) has nothing to catch up: fenced,
        # either is a failover.
        why_not = self._why_not_switchover(ctx, instance)
        planned = why_not is None
        session, no_session = None, None
        if groups == [fence]:
            ctx.note(already_done=True, fence_group=fence)
        else:
            if planned:
                # Before the swap: a security-group change does not cut this session.
                session, no_session = switchover.open_session(self, ctx)
            rds = ctx.aws.client("rds", self.region)
            tags = tags_of(ctx.aws, self.region, instance)
            if FENCE_TAG not in tags:
                # A switchover's record from an earlier fence undone by hand is no record of
                # this one: its moments would prove nothing now.
                stale = [key for key in SWITCHOVER_TAGS if key in tags]
                if stale:
                    rds.remove_tags_from_resource(ResourceName=instance["DBInstanceArn"],
                                                  TagKeys=stale)
                tag = {"Key": FENCE_TAG, "Value": fence_tag_value(groups)}
                rds.add_tags_to_resource(ResourceName=instance["DBInstanceArn"], Tags=[tag])
            try:
                rds.modify_db_instance(DBInstanceIdentifier=self.identifier,
                                       VpcSecurityGroupIds=[fence], ApplyImmediately=True)
            except BaseException:
                if session is not None:
                    session.close()
                raise
            ctx.note(fence_group=fence, original_groups=groups)
        if not planned:
            ctx.note(move="failover", why_not_switchover=why_not)
            return
        switchover.Switchover(self, ctx, instance, fence, session, no_session).run()

    def _why_not_switchover(self, ctx: StepContext, instance: dict[str, Any]) -> str | None:
        if instance["DBInstanceStatus"] in STUCK:
            return f"{self.identifier} is {instance['DBInstanceStatus']}"
        target = self.item.side(self.direction.to)
        replica = describe(ctx, self.direction.to_region, target)
        if replica is None or source_of(replica) != self.identifier:
            return f"{target} does not replicate {self.identifier}: nothing to catch up"
        return None

    def verify(self, ctx: StepContext) -> None:
        instance = describe(ctx, self.region, self.identifier)
        if instance is None or source_of(instance):
            return
        groups = [g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups", [])]
        if groups != [ctx.detail.get("fence_group")]:
            raise VerifyFailed(f"{self.identifier} still has security groups {groups}")

    def rollback(self, ctx: StepContext) -> None:
        instance = describe(ctx, self.region, self.identifier)
        if instance is not None:
            unfence(ctx.aws, self.region, instance)
